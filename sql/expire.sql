-- expire_batches: zeroes batches past expires_at that still hold credits,
-- one expire ledger entry each, at most max_batches per call.
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

-- Account 1: two batches already expired (4 and 5 credits), one expiring
-- tomorrow, one permanent.  Account 2: one expired batch of another type.
-- Account 3: an expired batch that was fully spent before it expired.
INSERT INTO credits.credit_types VALUES ('minutes', 'Call minutes');
SELECT credits.grant_credits(1, 4, expires_at => now() - interval '2 days',
                             valid_from => now() - interval '1 month') AS batch_id;
SELECT credits.grant_credits(1, 5, expires_at => now() - interval '1 day',
                             valid_from => now() - interval '1 month') AS batch_id;
SELECT credits.grant_credits(1, 6, expires_at => now() + interval '1 day') AS batch_id;
SELECT credits.grant_credits(1, 7) AS batch_id;
SELECT credits.grant_credits(2, 30, expires_at => now() - interval '1 hour',
                             valid_from => now() - interval '1 month', credit_type => 'minutes') AS batch_id;
SELECT credits.grant_credits(3, 2, expires_at => now() + interval '1 second') AS batch_id;
SELECT (r).amount FROM credits.redeem_credits(3, 2) AS r;
SELECT pg_sleep(1.1);

-- before: 9 expired-but-unprocessed credits still count in account 1's total,
-- but not in what it can spend
SELECT account_id, credit_type, total FROM credits.account_totals ORDER BY 1, 2;
SELECT credits.balance(1);

-- one batch per call: the earliest expiry first
SELECT credits.expire_batches(1);
SELECT batch_id, remaining, is_open FROM credits.batches WHERE account_id = 1 ORDER BY batch_id;
-- the rest in one call; the spent batch of account 3 has nothing to expire
SELECT credits.expire_batches();
SELECT credits.expire_batches();
SELECT account_id, batch_id, remaining, is_open FROM credits.batches ORDER BY batch_id;
SELECT account_id, credit_type, total FROM credits.account_totals ORDER BY 1, 2;

-- one operation per account and call, one ledger entry per batch, with the
-- running total after each
SELECT o.account_id, o.operation_id, o.kind, o.amount
  FROM credits.operations o WHERE o.kind = 'expire_batches' ORDER BY o.operation_id;
SELECT account_id, operation_id, entry_no, kind, batch_id, credit_type, delta, balance_after
  FROM credits.ledger WHERE kind = 'expire' ORDER BY operation_id, entry_no;
SELECT kind, delta, balance_after FROM credits.account_history(1) ORDER BY operation_id, entry_no;

-- what is left is spendable as before: 6 expiring tomorrow, then 7 permanent
SELECT credits.balance(1);
SELECT a.batch_id, a.amount FROM credits.redeem_credits(1, 8) AS r, unnest((r).allocations) AS a;

-- many due batches in several accounts: a call never takes more than max_batches
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 minute',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(10, 14) AS a, generate_series(1, 3) AS n;
SELECT count(*) AS due FROM credits.batches WHERE is_open AND expires_at <= now();
SELECT credits.expire_batches(4) AS first_call, credits.expire_batches(4) AS second_call,
       credits.expire_batches(100) AS third_call, credits.expire_batches(100) AS fourth_call;
SELECT count(*) AS due FROM credits.batches WHERE is_open AND expires_at <= now();

-- A call takes all the due batches of each account it locks, so it locks
-- accounts, earliest due batch first, only until those it holds have
-- max_batches due batches between them.  Accounts 40 to 42 have three
-- due batches each, in expiry order 40, 41, 42, 40, 41, 42, 40, 41, 42:
-- three batches are account 40's alone, and a call for four takes
-- account 41's three and one of account 42's.  pgrowlocks lists the
-- account rows this transaction has locked.
CREATE EXTENSION pgrowlocks;
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 hour'
                                                 + (n * 3 + a - 40) * interval '1 second',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(40, 42) AS a, generate_series(1, 3) AS n;
BEGIN;
SELECT credits.expire_batches(3) AS expired;
SELECT pg_catalog.array_agg(a.account_id ORDER BY a.account_id) AS locked_accounts
  FROM credits.accounts AS a JOIN pgrowlocks('credits.accounts') AS l ON l.locked_row = a.ctid;
COMMIT;
BEGIN;
SELECT credits.expire_batches(4) AS expired;
SELECT pg_catalog.array_agg(a.account_id ORDER BY a.account_id) AS locked_accounts
  FROM credits.accounts AS a JOIN pgrowlocks('credits.accounts') AS l ON l.locked_row = a.ctid;
COMMIT;
SELECT account_id, count(*) AS still_due FROM credits.batches
 WHERE is_open AND expires_at <= now() GROUP BY account_id ORDER BY account_id;
SELECT credits.expire_batches(100) AS expired;
-- rows of an account already locked bring no batch: account 43's three
-- due batches come first, then one each of 44 and 45; four batches are
-- 43's and 44's, and 45 stays unlocked
SELECT count(credits.grant_credits(43, 1, expires_at => now() - interval '1 hour'
                                                  + n * interval '1 second',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(1, 3) AS n;
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 hour'
                                                 + (a - 40) * interval '1 second',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(44, 45) AS a;
BEGIN;
SELECT credits.expire_batches(4) AS expired;
SELECT pg_catalog.array_agg(a.account_id ORDER BY a.account_id) AS locked_accounts
  FROM credits.accounts AS a JOIN pgrowlocks('credits.accounts') AS l ON l.locked_row = a.ctid;
COMMIT;
SELECT credits.expire_batches(100) AS expired;
DROP EXTENSION pgrowlocks;

-- run_expiry pauses after each batch so that its work takes at most
-- credits.expiry_work_share of the time; the share must lie in [0.01, 1]
SHOW credits.expiry_work_share;
SET credits.expiry_work_share = 0;
SET credits.expiry_work_share = 1.5;
-- four due batches, one per call: with a share of 0.02 each batch is
-- followed by a pause of 49 times its work, with 1 by none, so the first
-- run takes far longer than the second for the same work
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 minute',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(20, 23) AS a;
SET credits.expiry_work_share = 0.02;
SELECT pg_catalog.clock_timestamp() AS paused_start \gset
CALL credits.run_expiry(1);
SELECT pg_catalog.clock_timestamp() AS paused_end \gset
SELECT count(*) AS due FROM credits.batches WHERE is_open AND expires_at <= now();
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 minute',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(24, 27) AS a;
SET credits.expiry_work_share = 1;
SELECT pg_catalog.clock_timestamp() AS flat_out_start \gset
CALL credits.run_expiry(1);
SELECT pg_catalog.clock_timestamp() AS flat_out_end \gset
SELECT count(*) AS due FROM credits.batches WHERE is_open AND expires_at <= now();
SELECT :'paused_end'::timestamptz - :'paused_start'::timestamptz
       > 5 * (:'flat_out_end'::timestamptz - :'flat_out_start'::timestamptz) AS paused_runs_longer;
RESET credits.expiry_work_share;

-- run_expiry commits each of its transactions with synchronous_commit set
-- to credits.expiry_synchronous_commit (off by default), for that
-- transaction only: the caller's own setting is back when it returns.  A
-- deferred constraint trigger, which runs as the transaction commits,
-- records the setting each expiry commits under.
CREATE TABLE public.expiry_commit_modes (batch_id bigint, mode text);
CREATE FUNCTION public.record_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.expiry_commit_modes VALUES (NEW.batch_id, current_setting('synchronous_commit'));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER record_commit_mode AFTER UPDATE ON credits.batches
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION public.record_commit_mode();
SHOW synchronous_commit;
SHOW credits.expiry_synchronous_commit;
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 minute',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(30, 31) AS a;
SET credits.expiry_work_share = 1;
CALL credits.run_expiry(1);
SHOW synchronous_commit;
SELECT mode, count(*) AS expired FROM public.expiry_commit_modes GROUP BY mode;
-- any of synchronous_commit's values, here a caller whose own is off and
-- who wants the expiries flushed at each commit
SET credits.expiry_synchronous_commit = 'on';
SET synchronous_commit = off;
TRUNCATE public.expiry_commit_modes;
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 minute',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(32, 33) AS a;
CALL credits.run_expiry(1);
SHOW synchronous_commit;
SELECT mode, count(*) AS expired FROM public.expiry_commit_modes GROUP BY mode;
SET credits.expiry_synchronous_commit = 'sometimes';
SET credits.expiry_synchronous_commit = 'remote_apply';
SHOW credits.expiry_synchronous_commit;
RESET credits.expiry_synchronous_commit;
RESET synchronous_commit;
RESET credits.expiry_work_share;
DROP TRIGGER record_commit_mode ON credits.batches;
DROP FUNCTION public.record_commit_mode();
DROP TABLE public.expiry_commit_modes;
-- the same as the first call of a new session, as pg_cron makes it: the
-- procedure reads the setting only once the library is loaded
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 minute',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(34, 35) AS a;
\c
CALL credits.run_expiry();
SELECT count(*) AS due FROM credits.batches WHERE is_open AND expires_at <= now();

-- The expiry job's batch statements run with jit off: their generic plans
-- are costed for a tenth of every due row and could pass jit_above_cost,
-- and a compilation at every call costs milliseconds per 1,000 batches.
-- With jit_above_cost 0 every other statement is compiled (the control
-- below is); theirs must not be.  NULL would mean a statement not seen.
-- A new session, so that they are planned afresh with these settings.
\c
CREATE EXTENSION pg_stat_statements;
SET pg_stat_statements.track = 'all';
SET jit = on;
SET jit_above_cost = 0;
SELECT count(credits.grant_credits(a, 1, expires_at => now() - interval '1 minute',
                                   valid_from => now() - interval '1 day')) AS granted
  FROM generate_series(28, 29) AS a;
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT credits.release_expired_holds(10) AS released, credits.expire_batches(10) AS expired;
SELECT count(*) AS jit_control FROM credits.batches WHERE account_id > 27 AND is_open;
RESET jit_above_cost;
RESET jit;
SELECT (SELECT sum(jit_functions) FROM pg_stat_statements
         WHERE query LIKE 'SELECT h.account_id, h.hold_id%') AS overdue_holds_jit_functions,
       (SELECT sum(jit_functions) FROM pg_stat_statements
         WHERE query LIKE 'SELECT a.account_id,  (SELECT pg_catalog.count(*) FROM (%') AS due_accounts_jit_functions,
       (SELECT sum(jit_functions) FROM pg_stat_statements
         WHERE query LIKE 'WITH due AS%') AS expire_jit_functions,
       (SELECT sum(jit_functions) > 0 FROM pg_stat_statements
         WHERE query LIKE 'SELECT count(*) AS jit_control%') AS control_compiled;
DROP EXTENSION pg_stat_statements;

SELECT * FROM credits.verify_ledger();

DROP EXTENSION credits;
