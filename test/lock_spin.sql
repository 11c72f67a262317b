-- test/lock_spin.sql: a redemption that finds its account locked by a
-- transaction that is working spins (credits.account_lock_spin,
-- src/lock_spin.c) and takes the account when that transaction commits.
-- It must then see what the holder committed, as a waiter that slept in
-- the row's queue does: the balance after both, the holder's operation
-- first, the ledger whole.  The holder is a second connection (dblink):
-- it redeems, takes advisory lock 4242 to say it holds the account, and
-- counts to three million in PL/pgSQL before it commits, with
-- synchronous commit off: it waits for nothing, not even a WAL flush, so
-- the spin is not cut short.
-- Its rows must be committed to be seen, so this file commits its fixture
-- and drops the extension at the end instead of rolling back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE EXTENSION credits;

SELECT plan(9);

SELECT credits.grant_credits(1, 10) IS NOT NULL AS granted \gset
SELECT dblink_connect('holder',
    pg_catalog.format('dbname=%s port=%s host=%s user=%s', pg_catalog.current_database(),
                      pg_catalog.current_setting('port'),
                      pg_catalog.split_part(pg_catalog.current_setting('unix_socket_directories'), ',', 1),
                      current_user)) AS connected \gset

-- Sends the holder's transaction, and returns once it holds the account.
CREATE FUNCTION pg_temp.start_holder(amount integer) RETURNS boolean
LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM dblink_send_query('holder', pg_catalog.format($h$
        DO $d$
        DECLARE n bigint := 0;
        BEGIN
            PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
            PERFORM credits.redeem_credits(1, %s);
            PERFORM pg_catalog.pg_advisory_lock(4242);
            FOR i IN 1..3000000 LOOP n := n + 1; END LOOP;
        END $d$ $h$, amount));
    FOR i IN 1..3000 LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_locks
                    WHERE locktype = 'advisory' AND objid = 4242 AND granted) THEN
            RETURN true;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.01);
    END LOOP;
    RETURN false;
END
$f$;

-- Waits for the holder's transaction to end, and frees the advisory lock.
CREATE FUNCTION pg_temp.finish_holder() RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE status text;
BEGIN
    SELECT s INTO status FROM dblink_get_result('holder') AS r(s text);
    PERFORM FROM dblink_get_result('holder') AS r(s text);
    PERFORM FROM dblink('holder', 'SELECT pg_catalog.pg_advisory_unlock_all()::text')
        AS r(unlocked text);
    RETURN status;
END
$f$;

-- With a spin of up to a second: 10 - 2 by the holder - 3 here.
SET credits.account_lock_spin = 1000000;
SELECT ok(pg_temp.start_holder(2), 'the holder holds account 1 and is counting');
SELECT is((r).balance_after, 5::numeric,
          'spinning, the redemption sees the holder''s committed redemption')
  FROM credits.redeem_credits(1, 3) AS r;
SELECT is(pg_temp.finish_holder(), 'DO', 'the holder committed');

-- Spinning off: the same race, the redemption sleeps in the row's queue.
SET credits.account_lock_spin = 0;
SELECT ok(pg_temp.start_holder(1), 'the holder holds account 1 again');
SELECT is((r).balance_after, 2::numeric,
          'sleeping, the redemption sees the holder''s committed redemption')
  FROM credits.redeem_credits(1, 2) AS r;
SELECT is(pg_temp.finish_holder(), 'DO', 'the holder committed again');
RESET credits.account_lock_spin;

SELECT is(ARRAY(SELECT amount FROM credits.operations
                 WHERE account_id = 1 AND kind = 'redeem_credits' ORDER BY operation_id),
          ARRAY[2, 3, 1, 2]::numeric[],
          'the operations follow the order the account was taken in');
SELECT is(credits.balance(1), 2::numeric, 'balance 10 - 2 - 3 - 1 - 2');
SELECT is_empty('SELECT * FROM credits.verify_ledger()', 'the ledger reconciles');

SELECT * FROM finish();

SELECT dblink_disconnect('holder');
DROP EXTENSION credits;
