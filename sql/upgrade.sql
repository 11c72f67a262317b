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

-- 1.2 replaces run_expiry in place: a grant made on it in 1.1 survives
GRANT EXECUTE ON PROCEDURE credits.run_expiry(integer) TO credits_upgrade_portal;
ALTER EXTENSION credits UPDATE TO '1.2';
SELECT extversion FROM pg_extension WHERE extname = 'credits';
SELECT has_function_privilege('credits_upgrade_portal', 'credits.run_expiry(integer)', 'EXECUTE') AS portal_run_expiry,
       has_function_privilege('public', 'credits.run_expiry(integer)', 'EXECUTE') AS public_run_expiry;
CALL credits.run_expiry();
SELECT count(*) AS problems FROM credits.verify_ledger();

-- 1.3 replaces run_expiry in place again (its commits follow
-- credits.expiry_synchronous_commit): the grant survives, and it runs
ALTER EXTENSION credits UPDATE TO '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'credits';
SELECT has_function_privilege('credits_upgrade_portal', 'credits.run_expiry(integer)', 'EXECUTE') AS portal_run_expiry,
       has_function_privilege('public', 'credits.run_expiry(integer)', 'EXECUTE') AS public_run_expiry;
SELECT pg_get_functiondef('credits.run_expiry(integer)'::regprocedure) LIKE '%expiry_synchronous_commit%' AS run_expiry_is_new;
CALL credits.run_expiry();
SELECT count(*) AS problems FROM credits.verify_ledger();

-- a fresh install (credits--1.3.sql) is the same as the upgrade, to the
-- definition: columns, constraints, indexes, routines, types, enum labels
-- in order, comments, privileges and the tables pg_dump carries
CREATE FUNCTION pg_temp.credits_definitions() RETURNS SETOF text
LANGUAGE sql AS $$
    SELECT 'object ' || pg_describe_object(d.classid, d.objid, d.objsubid)
      FROM pg_depend AS d
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'credits')
    UNION ALL
    SELECT format('column %s.%s %s notnull=%s default=%s comment=%s', c.relname, a.attname,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), col_description(c.oid, a.attnum))
      FROM pg_class AS c
      JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef AS ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
     WHERE c.relnamespace = 'credits'::regnamespace
    UNION ALL
    SELECT format('constraint %s.%s %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
      FROM pg_constraint AS c WHERE c.connamespace = 'credits'::regnamespace
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
      FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
     WHERE c.relnamespace = 'credits'::regnamespace
    UNION ALL
    SELECT format('relation %s %s %s acl=%s comment=%s', c.relname, c.relkind, c.reloptions,
                  c.relacl, obj_description(c.oid, 'pg_class'))
      FROM pg_class AS c WHERE c.relnamespace = 'credits'::regnamespace
    UNION ALL
    SELECT format('routine %s acl=%s secdef=%s config=%s comment=%s body=%s',
                  p.oid::regprocedure, p.proacl, p.prosecdef, p.proconfig,
                  obj_description(p.oid, 'pg_proc'), md5(pg_get_functiondef(p.oid)))
      FROM pg_proc AS p WHERE p.pronamespace = 'credits'::regnamespace
    UNION ALL
    SELECT format('type %s acl=%s comment=%s labels=%s', t.oid::regtype, t.typacl,
                  obj_description(t.oid, 'pg_type'),
                  (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                     FROM pg_enum AS e WHERE e.enumtypid = t.oid))
      FROM pg_type AS t WHERE t.typnamespace = 'credits'::regnamespace
    UNION ALL
    SELECT format('dumped %s %s', x.relation::regclass, x.condition)
      FROM pg_extension AS e,
           unnest(e.extconfig, e.extcondition) AS x(relation, condition)
     WHERE e.extname = 'credits'
$$;
CREATE TEMP TABLE upgraded AS SELECT pg_temp.credits_definitions() AS definition;
SELECT count(*) > 300 AS compared_many_definitions FROM upgraded;
DROP EXTENSION credits;
CREATE EXTENSION credits;
SELECT extversion FROM pg_extension WHERE extname = 'credits';
-- the role's grants are the one difference an upgrade keeps: make them again
GRANT EXECUTE ON FUNCTION credits.account_batches(bigint) TO credits_upgrade_portal;
GRANT EXECUTE ON PROCEDURE credits.run_expiry(integer) TO credits_upgrade_portal;
SELECT 'only after upgrade' AS side, definition FROM upgraded
EXCEPT SELECT 'only after upgrade', pg_temp.credits_definitions()
UNION ALL
SELECT 'only in fresh install', d FROM pg_temp.credits_definitions() AS d
EXCEPT SELECT 'only in fresh install', definition FROM upgraded
ORDER BY 1, 2;

DROP EXTENSION credits;
DROP OWNED BY credits_upgrade_portal;
DROP ROLE credits_upgrade_portal;
