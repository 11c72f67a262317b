-- test/lock_spin.sql: a redemption that finds its account locked by a
-- transaction that is working spins (credits.account_lock_spin,
-- src/lock_spin.c) and takes the account when that transaction commits;
-- with the spin off it sleeps in the row's queue.  Either way it must then
-- see what the holder committed: the balance after both, the holder's
-- operation first, the ledger whole.
--
-- Two more connections (dblink).  The holder redeems, takes advisory lock
-- 4242 to say it holds the account, and counts to three million in
-- PL/pgSQL before it commits, with synchronous commit off: it waits for
-- nothing, not even a WAL flush, so a spin is not cut short.  The waiter
-- redeems on the same account while this session watches it in
-- pg_stat_activity until the holder is done: spinning, it never shows a
-- wait for a lock; with the spin off, it does.
-- The holder's rows must be committed to be seen, so this file commits its
-- fixture and drops the extension at the end instead of rolling back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE EXTENSION credits;

SELECT plan(13);

SELECT credits.grant_credits(1, 10) IS NOT NULL AS granted \gset
SELECT pg_catalog.format('dbname=%s port=%s host=%s user=%s', pg_catalog.current_database(),
                         pg_catalog.current_setting('port'),
                         pg_catalog.split_part(pg_catalog.current_setting('unix_socket_directories'), ',', 1),
                         current_user) AS connection \gset
SELECT dblink_connect('holder', :'connection') AS holder_connected \gset
SELECT dblink_connect('waiter', :'connection') AS waiter_connected \gset
SELECT pid AS waiter_pid FROM dblink('waiter', 'SELECT pg_catalog.pg_backend_pid()') AS r(pid integer) \gset

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
                    WHERE locktype = 'advisory' AND objid = 4242 AND granted
                      AND database = (SELECT oid FROM pg_catalog.pg_database
                                       WHERE datname = pg_catalog.current_database())) THEN
            RETURN true;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.01);
    END LOOP;
    RETURN false;
END
$f$;

-- Sends the waiter's redemption with the spin given, and watches the
-- waiter until the holder's transaction ends: how many times it was seen
-- waiting for a heavyweight lock, of how many looks.
CREATE FUNCTION pg_temp.watch_waiter(spin integer, amount integer, waiter integer,
                                     OUT lock_waits integer, OUT looks integer)
LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM FROM dblink('waiter', pg_catalog.format('SELECT pg_catalog.set_config(%L, %L, false)',
                                                    'credits.account_lock_spin', spin))
        AS r(setting text);
    PERFORM dblink_send_query('waiter', pg_catalog.format(
        'SELECT (r).balance_after::text FROM credits.redeem_credits(1, %s) AS r', amount));
    lock_waits := 0;
    looks := 0;
    WHILE dblink_is_busy('holder') = 1 LOOP
        looks := looks + 1;
        IF EXISTS (SELECT FROM pg_catalog.pg_stat_activity
                    WHERE pid = waiter AND wait_event_type = 'Lock') THEN
            lock_waits := lock_waits + 1;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.002);
    END LOOP;
END
$f$;

-- The result of a connection's query, once it is done.
CREATE FUNCTION pg_temp.result_of(connection text) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE value text;
BEGIN
    SELECT r.value INTO value FROM dblink_get_result(connection) AS r(value text);
    PERFORM FROM dblink_get_result(connection) AS r(value text);
    RETURN value;
END
$f$;

-- One race: the holder takes account 1 and counts, the waiter redeems
-- with the spin given and is watched until the holder is done; then both
-- results, and the holder lets go of its advisory lock.
CREATE FUNCTION pg_temp.race(spin integer, holder_amount integer, waiter_amount integer,
                             waiter integer,
                             OUT holder_started boolean, OUT holder_status text,
                             OUT waiter_balance text, OUT lock_waits integer,
                             OUT looks integer, OUT unlocked bigint)
LANGUAGE plpgsql AS $f$
BEGIN
    holder_started := pg_temp.start_holder(holder_amount);
    SELECT w.lock_waits, w.looks INTO lock_waits, looks
      FROM pg_temp.watch_waiter(spin, waiter_amount, waiter) AS w;
    holder_status := pg_temp.result_of('holder');
    waiter_balance := pg_temp.result_of('waiter');
    SELECT count(*) INTO unlocked
      FROM dblink('holder', 'SELECT pg_catalog.pg_advisory_unlock_all()::text') AS r(value text);
END
$f$;

-- Spinning for up to a second: 10 - 2 by the holder - 3 by the waiter.
SELECT * FROM pg_temp.race(1000000, 2, 3, :waiter_pid) \gset spinning_
SELECT ok(:'spinning_holder_started'::boolean, 'the holder holds account 1 and is counting');
SELECT is(:'spinning_holder_status'::text, 'DO', 'the holder committed');
SELECT is(:'spinning_waiter_balance'::text, '5',
          'spinning, the waiter sees the holder''s committed redemption');
SELECT cmp_ok(:spinning_looks, '>', 10, 'the waiter was watched while the holder counted');
SELECT is(:spinning_lock_waits, 0, 'spinning, the waiter never waited for a lock');
SELECT is(:spinning_unlocked::bigint, 1::bigint, 'the holder lets go of its advisory lock');

-- Spinning off: the same race, the waiter sleeps in the row's queue.
SELECT * FROM pg_temp.race(0, 1, 2, :waiter_pid) \gset sleeping_
SELECT ok(:'sleeping_holder_started'::boolean, 'the holder holds account 1 again');
SELECT is(:'sleeping_holder_status'::text, 'DO', 'the holder committed again');
SELECT is(:'sleeping_waiter_balance'::text, '2',
          'sleeping, the waiter sees the holder''s committed redemption');
SELECT cmp_ok(:sleeping_lock_waits, '>', 0, 'with the spin off, the waiter waited for a lock');

SELECT is(ARRAY(SELECT amount FROM credits.operations
                 WHERE account_id = 1 AND kind = 'redeem_credits' ORDER BY operation_id),
          ARRAY[2, 3, 1, 2]::numeric[],
          'the operations follow the order the account was taken in');
SELECT is(credits.balance(1), 2::numeric, 'balance 10 - 2 - 3 - 1 - 2');
SELECT is_empty('SELECT * FROM credits.verify_ledger()', 'the ledger reconciles');

SELECT * FROM finish();

SELECT dblink_disconnect('holder');
SELECT dblink_disconnect('waiter');
DROP EXTENSION credits;
