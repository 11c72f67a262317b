-- Upgrade: install the oldest version, 1.0, with data and grants as 1.0
-- left them, and walk every ALTER EXTENSION ... UPDATE step.  The rows are
-- written directly, as the 1.0 functions would have written them: the
-- library installed is the newest, whose functions expect the newest
-- schema.
CREATE EXTENSION credits VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'credits';

-- 1.0 data: one account with a grant of 10 and a redemption of 4
INSERT INTO credits.accounts (account_id) VALUES (1);
INSERT INTO credits.batches (account_id, batch_id, credit_type, source, amount, remaining,
                             is_open, valid_from, expires_at, operation_id, created_at)
VALUES (1, 1, 'credit', 'manual', 10, 6, true, now() - interval '1 day', 'infinity', 1, now());
INSERT INTO credits.account_totals VALUES (1, 'credit', 6);
INSERT INTO credits.operations (account_id, operation_id, kind, request, amount, credit_type, created_at)
VALUES (1, 1, 'grant_credits', 'grant_credits amount=10', 10, 'credit', now()),
       (1, 2, 'redeem_credits', 'redeem_credits amount=4', 4, 'credit', now());
INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                            delta, balance_after, created_at)
VALUES (1, 1, 1, 'grant', 1, 'credit', 10, 10, now()),
       (1, 2, 1, 'redeem', 1, 'credit', -4, 6, now());
SELECT setval('credits.batch_id_seq', 1), setval('credits.operation_id_seq', 2);
SELECT count(*) AS problems FROM credits.verify_ledger();

-- a grant an administrator made on a function that 1.1 recreates
CREATE ROLE credits_upgrade_portal NOLOGIN;
GRANT USAGE ON SCHEMA credits TO credits_upgrade_portal;
GRANT EXECUTE ON FUNCTION credits.account_batches(bigint) TO credits_upgrade_portal;

ALTER EXTENSION credits UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'credits';

-- the data is intact and reconciles; the new columns have their defaults
SELECT batch_id, remaining, held, voided_at FROM credits.batches;
SELECT count(*) AS problems FROM credits.verify_ledger();
-- the grant survived the function's re-creation, and PUBLIC still has nothing
SELECT has_function_privilege('credits_upgrade_portal', 'credits.account_batches(bigint)', 'EXECUTE') AS portal,
       has_function_privilege('public', 'credits.account_batches(bigint)', 'EXECUTE') AS public;
SELECT count(*) AS leftover_helpers FROM pg_proc WHERE proname = 'restore_grants';
-- the redemption made in 1.0 can be refunded in 1.1, and the 1.1 functions work
SELECT (f).amount, (f).balance_after FROM credits.refund_redemption(1, 2, 1) AS f;
SELECT (h).amount FROM credits.hold_credits(1, 2) AS h;
SELECT batch_id, remaining, held FROM credits.account_batches(1);
SELECT count(*) AS problems FROM credits.verify_ledger();

-- a fresh install gives the same objects as the upgrade
CREATE TEMP TABLE upgraded AS
SELECT pg_describe_object(classid, objid, objsubid) AS object
  FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'credits') AND deptype = 'e';
DROP EXTENSION credits;
CREATE EXTENSION credits;
SELECT extversion FROM pg_extension WHERE extname = 'credits';
SELECT count(*) AS differences FROM (
    (SELECT object FROM upgraded
     EXCEPT SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
             WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
               AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'credits'))
    UNION ALL
    (SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
      WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
        AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'credits')
     EXCEPT SELECT object FROM upgraded)) AS d;

DROP EXTENSION credits;
DROP OWNED BY credits_upgrade_portal;
DROP ROLE credits_upgrade_portal;
