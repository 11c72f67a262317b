-- Scheduling with pg_cron: schedule_expiry registers a job that runs
-- CALL credits.run_expiry(); this test waits for pg_cron to run it once.
-- The test cluster preloads pg_cron with cron.database_name set to this
-- database (scripts/test).
CREATE EXTENSION credits;
CREATE EXTENSION pg_cron;

SELECT credits.grant_credits(1, 4, expires_at => now() - interval '1 day',
                             valid_from => now() - interval '1 month') AS expired_batch;
SELECT credits.grant_credits(1, 6) AS permanent_batch;
-- and an overdue hold, which the same job releases
SELECT credits.grant_credits(2, 3) AS batch_id;
SELECT (credits.hold_credits(2, 2, hold_until => now() - interval '1 minute')).hold_id AS overdue_hold \gset
SELECT credits.balance(2) AS available_while_held;

SELECT credits.schedule_expiry(NULL);
SELECT credits.schedule_expiry('* * * * *') > 0 AS scheduled;
SELECT jobname, schedule, command, database = current_database() AS here FROM cron.job;
-- scheduling again updates the one job
SELECT credits.schedule_expiry('*/2 * * * *') > 0 AS rescheduled;
SELECT jobname, schedule FROM cron.job;
SELECT credits.schedule_expiry('* * * * *') > 0 AS rescheduled;

-- pg_cron here takes cron syntax only, so the job runs at the next minute:
-- wait up to 90 seconds for its first run to finish
DO $$
BEGIN
    FOR i IN 1..90 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM cron.job_run_details
                           WHERE status IN ('succeeded', 'failed'));
        PERFORM pg_sleep(1);
    END LOOP;
END
$$;
SELECT status, command FROM cron.job_run_details ORDER BY runid LIMIT 1;
SELECT kind, batch_id, delta, balance_after FROM credits.ledger WHERE kind = 'expire';
SELECT credits.balance(1), (SELECT total FROM credits.account_totals WHERE account_id = 1) AS total;
SELECT status, released FROM credits.holds WHERE hold_id = :overdue_hold;
SELECT credits.balance(2) AS available_after_release;

SELECT credits.unschedule_expiry() AS removed, credits.unschedule_expiry() AS removed_again;
SELECT count(*) AS jobs FROM cron.job;

DROP EXTENSION pg_cron;
DROP EXTENSION credits;
