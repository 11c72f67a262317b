-- bench/setup.sql: the data the benchmark runs on, made set-based and
-- consistent with the books (credits.verify_ledger finds nothing).
--
-- Each contender works on its own accounts of the same shape, so that no
-- contender's writes change what another reads:
--   uniform     credits 1..10000, plpgsql 10001..20000, floor 20001..30000:
--               5 batches each (4 expiring 30, 60, 90, 120 days out, 1
--               permanent), 10^9 credits each, so no run exhausts them
--   hot         credits 30001, plpgsql 30002, floor 30003, locked_floor
--               30004, unspun (credits with credits.account_lock_spin 0)
--               30005: the same 5 batches
--   deep        40001: 10,000 closed batches (5,000 spent, 5,000 expired)
--               and the same 5 open ones; shallow 40002: the 5 open ones
--   expiry      made by bench.make_due_accounts when that workload runs
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS credits;
CREATE SCHEMA IF NOT EXISTS bench;

INSERT INTO credits.services (service_id, name, credit_cost) VALUES (1, 'Class', 1)
ON CONFLICT DO NOTHING;
INSERT INTO credits.packages (package_id, name, credits, price, currency, expires_after)
VALUES (1, '10 classes', 10, 90, 'EUR', '12 months') ON CONFLICT DO NOTHING;

-- Accounts first_account .. first_account + accounts - 1, each with
-- `closed` closed batches (half spent, half expired) and `open` open ones
-- (the last permanent), ids ascending per account.  One grant operation
-- per account holds the grant entries; one more holds the spending or
-- expiry of the closed batches.
CREATE FUNCTION bench.make_accounts(first_account bigint, accounts integer,
                                    open integer, closed integer,
                                    credits_per_batch numeric DEFAULT 1000000000)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    per_account integer := open + closed;
    batch_base bigint := (SELECT COALESCE(max(batch_id), 0) FROM credits.batches);
    operation_base bigint := pg_catalog.nextval('credits.operation_id_seq');
BEGIN
    INSERT INTO credits.accounts (account_id)
    SELECT first_account + i FROM generate_series(0, accounts - 1) AS i;

    CREATE TEMP TABLE made ON COMMIT DROP AS
    SELECT first_account + i AS account_id,
           batch_base + i::bigint * per_account + n AS batch_id,
           n,
           n <= closed AS is_closed,
           n <= closed / 2 AS is_expired,
           operation_base + i::bigint * 2 AS grant_operation,
           operation_base + i::bigint * 2 + 1 AS close_operation,
           CASE WHEN n <= closed / 2 THEN now() - interval '30 days'
                WHEN n = per_account THEN 'infinity'::timestamptz
                WHEN n <= closed THEN now() + interval '400 days'
                ELSE now() + (n - closed) * interval '30 days' END AS expires_at
      FROM generate_series(0, accounts - 1) AS i, generate_series(1, per_account) AS n;

    INSERT INTO credits.batches (account_id, batch_id, credit_type, source, amount, remaining,
                                 is_open, valid_from, expires_at, operation_id, created_at)
    SELECT account_id, batch_id, 'credit', 'manual', credits_per_batch,
           CASE WHEN is_closed THEN 0 ELSE credits_per_batch END, NOT is_closed,
           now() - interval '60 days', expires_at, grant_operation, now()
      FROM made;

    INSERT INTO credits.operations (account_id, operation_id, kind, request, amount, credit_type, created_at)
    SELECT account_id, grant_operation, 'grant_credits'::credits.operation_kind, 'bench', credits_per_batch * per_account, 'credit', now()
      FROM made WHERE n = 1
    UNION ALL
    SELECT account_id, close_operation, 'redeem_credits'::credits.operation_kind, 'bench', credits_per_batch * closed, 'credit', now()
      FROM made WHERE n = 1 AND closed > 0;

    INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                                delta, balance_after, created_at)
    SELECT account_id, grant_operation, n, 'grant'::credits.entry_kind, batch_id, 'credit', credits_per_batch,
           credits_per_batch * n, now()
      FROM made
    UNION ALL
    SELECT account_id, close_operation, n, CASE WHEN is_expired THEN 'expire' ELSE 'redeem' END::credits.entry_kind,
           batch_id, 'credit', -credits_per_batch, credits_per_batch * (per_account - n), now()
      FROM made WHERE is_closed;

    INSERT INTO credits.account_totals (account_id, credit_type, total)
    SELECT account_id, 'credit', credits_per_batch * open FROM made WHERE n = 1;

    PERFORM pg_catalog.setval('credits.batch_id_seq', batch_base + accounts::bigint * per_account);
    PERFORM pg_catalog.setval('credits.operation_id_seq', operation_base + accounts::bigint * 2);
END
$$;

-- Accounts with `due` batches each that expired an hour ago (10 credits
-- each), for the expiry workload.
CREATE FUNCTION bench.make_due_accounts(first_account bigint, accounts integer, due integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    batch_base bigint := (SELECT COALESCE(max(batch_id), 0) FROM credits.batches);
    operation_base bigint := pg_catalog.nextval('credits.operation_id_seq');
BEGIN
    INSERT INTO credits.accounts (account_id)
    SELECT first_account + i FROM generate_series(0, accounts - 1) AS i;
    INSERT INTO credits.batches (account_id, batch_id, credit_type, source, amount, remaining,
                                 is_open, valid_from, expires_at, operation_id, created_at)
    SELECT first_account + i, batch_base + i::bigint * due + n, 'credit', 'manual', 10, 10, true,
           now() - interval '1 day', now() - interval '1 hour', operation_base + i, now()
      FROM generate_series(0, accounts - 1) AS i, generate_series(1, due) AS n;
    INSERT INTO credits.operations (account_id, operation_id, kind, request, amount, credit_type, created_at)
    SELECT first_account + i, operation_base + i, 'grant_credits', 'bench', 10 * due, 'credit', now()
      FROM generate_series(0, accounts - 1) AS i;
    INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                                delta, balance_after, created_at)
    SELECT first_account + i, operation_base + i, n, 'grant', batch_base + i::bigint * due + n,
           'credit', 10, 10 * n, now()
      FROM generate_series(0, accounts - 1) AS i, generate_series(1, due) AS n;
    INSERT INTO credits.account_totals (account_id, credit_type, total)
    SELECT first_account + i, 'credit', 10 * due FROM generate_series(0, accounts - 1) AS i;
    PERFORM pg_catalog.setval('credits.batch_id_seq', batch_base + accounts::bigint * due);
    PERFORM pg_catalog.setval('credits.operation_id_seq', operation_base + accounts);
END
$$;

-- The bare set-based expiry the C function is measured against: the same
-- rows zeroed and the same ledger rows written, in one statement, with no
-- locks, checks or running totals.
CREATE FUNCTION bench.bare_expire(first_account bigint, last_account bigint)
RETURNS bigint
LANGUAGE sql AS $$
    WITH zeroed AS (
        UPDATE credits.batches AS b SET remaining = 0, is_open = false
         WHERE b.account_id BETWEEN first_account AND last_account
           AND b.is_open AND b.expires_at <= now()
        RETURNING b.account_id, b.batch_id, b.credit_type, b.amount
    ), entries AS (
        INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,
                                    credit_type, delta, balance_after, created_at)
        SELECT z.account_id, pg_catalog.nextval('credits.operation_id_seq'), 1, 'expire',
               z.batch_id, z.credit_type, -z.amount, 0, now()
          FROM zeroed AS z
        RETURNING 1
    )
    SELECT count(*) FROM entries
$$;

-- 1,000,000 redemptions in this session, committing every 1,000, for the
-- memory workload.
CREATE PROCEDURE bench.redeem_many(account_id bigint, calls integer)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..calls LOOP
        PERFORM credits.redeem_credits(account_id, 1);
        IF i % 1000 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;

SELECT bench.make_accounts(1, 10000, 5, 0);
SELECT bench.make_accounts(10001, 10000, 5, 0);
SELECT bench.make_accounts(20001, 10000, 5, 0);
SELECT bench.make_accounts(30001, 5, 5, 0);
SELECT bench.make_accounts(40001, 1, 5, 10000);
SELECT bench.make_accounts(40002, 1, 5, 0);
VACUUM ANALYZE;
SELECT count(*) AS ledger_problems FROM credits.verify_ledger();
