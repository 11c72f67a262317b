/* sql/credits--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credits UPDATE TO '1.3'" to load this file. \quit

/*
 * 1.3: run_expiry commits each of its transactions with synchronous_commit
 * set to credits.expiry_synchronous_commit (off by default), so that a
 * backlog does not wait for the disk a thousand times per million batches.
 * The signature is unchanged, so CREATE OR REPLACE keeps the grants made
 * on it.
 */

-- A procedure, so that each batch of expiries commits on its own and no
-- account stays locked for the whole run.  After each batch it pauses, so
-- that its work takes at most credits.expiry_work_share of the time and a
-- large backlog does not take a core away from the bookings; the pause
-- holds no lock.  Each transaction it commits has synchronous_commit set
-- to credits.expiry_synchronous_commit (off by default) for that
-- transaction only: a crash can lose the last expiries (up to three times
-- wal_writer_delay), which the next run makes again (they depend on
-- nothing but the rows and the clock), and a later synchronous commit
-- flushes them with its own WAL, so nothing written after them can
-- survive a crash that they do not.  The caller's setting is back after
-- each COMMIT.  It cannot carry SET search_path (a procedure with
-- SET cannot COMMIT), so every name and operator in it is qualified.
CREATE OR REPLACE PROCEDURE credits.run_expiry(batch_size integer DEFAULT 1000)
LANGUAGE plpgsql
AS $$
DECLARE
    releasing_holds boolean := true;
    started timestamptz;
    done bigint;
    work_share float8;
BEGIN
    LOOP
        started := pg_catalog.clock_timestamp();
        IF releasing_holds THEN
            done := credits.release_expired_holds(batch_size);
        ELSE
            done := credits.expire_batches(batch_size);
        END IF;
        -- read at COMMIT; after the call, which has loaded the library
        -- that defines the setting
        PERFORM pg_catalog.set_config('synchronous_commit',
                                      pg_catalog.current_setting('credits.expiry_synchronous_commit'),
                                      true);
        COMMIT;
        IF done OPERATOR(pg_catalog.=) 0 THEN
            -- overdue holds first, then due batches, each until none is left
            EXIT WHEN NOT releasing_holds;
            releasing_holds := false;
        ELSE
            work_share := pg_catalog.current_setting('credits.expiry_work_share')::pg_catalog.float8;
            IF work_share OPERATOR(pg_catalog.<) 1 THEN
                PERFORM pg_catalog.pg_sleep(
                    pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started)
                    OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) work_share)
                    OPERATOR(pg_catalog./) work_share);
            END IF;
        END IF;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE credits.run_expiry(integer) IS
    'Releases overdue holds, then expires due batches, each until nothing is left, committing after each batch with synchronous_commit = credits.expiry_synchronous_commit and pausing so that its work takes at most credits.expiry_work_share of the time; what pg_cron runs';
