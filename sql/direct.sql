-- The direct writes (src/direct_write.c): a redemption that one batch
-- covers (direct_redeem.c) and a grant to an account that already has a
-- running total of the credit type (direct_grant.c) are written through
-- the table access method, not by a statement.  They must write what the
-- statement writes, keep every constraint, fill in every default, leave
-- every index whole, and give way to the statement when a table has a
-- trigger.  Account 1 is written directly, account 2 by the statement (a
-- trigger on the ledger is in place for it), with the same calls; then
-- both are compared.
CREATE EXTENSION credits;
CREATE EXTENSION amcheck;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

INSERT INTO credits.services VALUES (1, 'Yoga class', true, 1, 'credit');
INSERT INTO credits.packages (package_id, name, credit_type, credits, price, currency, country)
VALUES (1, 'Ten classes', 'credit', 10, 90, 'EUR', 'DE');

-- A trigger on the ledger counts the rows it sees.
CREATE TABLE public.ledger_rows_seen (account_id bigint, operation_id bigint);
CREATE FUNCTION public.note_ledger_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.ledger_rows_seen VALUES (NEW.account_id, NEW.operation_id);
    RETURN NEW;
END $$;

-- The calls, as one procedure so that both accounts get exactly the same.
-- Grants: the first creates the running total (the statement, both
-- times), then 3 credits for yoga only, 10 permanent ones with a
-- reference, a package sold (batch, sale, local-time expiry) and credits
-- instead of a refund.  Redemptions: one credit (from the first batch),
-- one more (it drains that batch, so the update moves the batch out of
-- the spendable index), one for yoga (the restricted batch expires
-- first), a retried key, 5 credits for yoga (more than the first batch
-- has: the general path, both times) and a quarter of a credit.
CREATE PROCEDURE public.write_the_same(a bigint) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credits.grant_credits(a, 2, expires_at => date_trunc('day', now()) + interval '10 days');
    PERFORM credits.grant_credits(a, 3, expires_at => date_trunc('day', now()) + interval '5 days',
                                  services => ARRAY[1::bigint]);
    PERFORM credits.grant_credits(a, 10, reference => 'permanent', idempotency_key => 'ten');
    PERFORM credits.grant_credits(a, 10, reference => 'permanent', idempotency_key => 'ten');
    PERFORM credits.grant_package(a, 1, payment_ref => 'pay-1');
    PERFORM credits.refund_as_credits(a, 1.5, 'late class');
    PERFORM credits.redeem_credits(a, 1, reference => 'first');
    PERFORM credits.redeem_credits(a, 1, idempotency_key => 'second');
    PERFORM credits.redeem_credits(a, 1, idempotency_key => 'second');
    PERFORM credits.redeem_service(a, 1, 1, reference => 'yoga');
    PERFORM credits.redeem_credits(a, 5, service_id => 1, reference => 'five');
    PERFORM credits.redeem_credits(a, 0.25);
END $$;

-- Without a trigger: no statement is needed, so no DEBUG line.
SET client_min_messages = debug1;
CALL public.write_the_same(1);
RESET client_min_messages;

-- With the trigger: the statement does it, and the DEBUG line says why
-- (once a call but for the retries, which replay), and the trigger sees
-- every ledger row.
CREATE TRIGGER note_ledger_row AFTER INSERT ON credits.ledger
    FOR EACH ROW EXECUTE FUNCTION public.note_ledger_row();
SET client_min_messages = debug1;
CALL public.write_the_same(2);
RESET client_min_messages;
SELECT count(*) AS rows_seen_by_the_trigger,
       (SELECT count(*) FROM credits.ledger WHERE account_id = 2) AS ledger_rows
  FROM public.ledger_rows_seen;
DROP TRIGGER note_ledger_row ON credits.ledger;

-- Both accounts' books are the same, row for row, but for the ids and
-- times (the accounts are written in two transactions); the detail (the
-- operation's request, batch times relative to each other) is compared,
-- not shown.
CREATE VIEW public.books AS
    SELECT account_id, 'batch' AS what,
           format('%s %s remaining %s held %s open %s package %s services %s ref %s voided %s',
                  b.source, b.amount, b.remaining, b.held, b.is_open, b.package_id,
                  b.service_ids, b.reference, b.voided_at) AS row,
           format('valid before creation %s, expires %s', b.valid_from <= b.created_at,
                  CASE WHEN NOT isfinite(b.expires_at) THEN 'never'
                       WHEN b.expires_at = date_trunc('day', b.expires_at)
                       THEN format('at midnight, %s days on', b.expires_at::date - now()::date)
                       WHEN b.expires_at = b.valid_from + interval '12 months'
                       THEN '12 months after validity starts'
                       ELSE 'otherwise' 
                  END) AS detail
      FROM credits.batches AS b
    UNION ALL
    SELECT account_id, 'total', format('%s %s', t.credit_type, t.total), ''
      FROM credits.account_totals AS t
    UNION ALL
    SELECT account_id, 'operation',
           format('%s %s key %s service %s package %s ref %s balance %s', o.kind, o.amount,
                  o.idempotency_key, o.service_id, o.package_id, o.reference, o.balance_after),
           o.request
      FROM credits.operations AS o
    UNION ALL
    SELECT account_id, 'entry',
           format('%s %s %s %s balance %s service %s ref %s', l.entry_no, l.kind, l.credit_type,
                  l.delta, l.balance_after, l.service_id, l.reference), ''
      FROM credits.ledger AS l
    UNION ALL
    SELECT account_id, 'sale',
           format('package %s credits %s price %s %s country %s ref %s membership %s', s.package_id,
                  s.credits, s.price, s.currency, s.country, s.payment_ref, s.membership_id), ''
      FROM credits.sales AS s;
SELECT what, row FROM public.books WHERE account_id = 1 ORDER BY what, row;
SELECT DISTINCT detail FROM public.books WHERE what = 'batch' ORDER BY detail;
SELECT 'only on account ' || account_id AS difference, what, row, detail FROM (
    (SELECT 1 AS account_id, what, row, detail FROM public.books WHERE account_id = 1
     EXCEPT ALL
     SELECT 1, what, row, detail FROM public.books WHERE account_id = 2)
    UNION ALL
    (SELECT 2, what, row, detail FROM public.books WHERE account_id = 2
     EXCEPT ALL
     SELECT 2, what, row, detail FROM public.books WHERE account_id = 1)) AS d;
-- the times the two accounts share are the ones asked for
SELECT b.valid_from <= now() AND b.expires_at = date_trunc('day', now()) + interval '10 days'
       AS first_batch_times_kept
  FROM credits.batches AS b
 WHERE b.account_id = 1 AND b.amount = 2;
SELECT * FROM credits.verify_ledger();

-- Every index of the five tables holds exactly the rows of its table
-- (amcheck with heapallindexed: a missing index entry is an error).
CREATE FUNCTION public.indexes_checked() RETURNS TABLE (relname name, checked text)
LANGUAGE sql AS $$
    SELECT c.relname, public.bt_index_check(c.oid, true)::text
      FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
     WHERE i.indrelid IN ('credits.batches'::regclass, 'credits.account_totals'::regclass,
                          'credits.operations'::regclass, 'credits.ledger'::regclass,
                          'credits.sales'::regclass)
     ORDER BY c.relname
$$;
SELECT * FROM public.indexes_checked();

DROP VIEW public.books;

-- Constraints hold on the direct path too, and a new one is seen at once.
-- A row the ledger refuses: nothing of the call is left.
\set VERBOSITY terse
ALTER TABLE credits.ledger ADD CONSTRAINT ledger_test_reference
    CHECK (reference IS DISTINCT FROM 'refused');
SELECT credits.redeem_credits(1, 1, reference => 'refused');
-- a batch update the batches refuse
ALTER TABLE credits.batches ADD CONSTRAINT batches_test_remaining CHECK (remaining <> 5.75);
SELECT credits.redeem_credits(1, 1);
\set VERBOSITY default
SELECT credits.balance(1),
       (SELECT count(*) FROM credits.operations WHERE account_id = 1) AS operations,
       (SELECT count(*) FROM credits.ledger WHERE account_id = 1) AS entries;
-- with the constraints gone, both calls go through
ALTER TABLE credits.ledger DROP CONSTRAINT ledger_test_reference;
ALTER TABLE credits.batches DROP CONSTRAINT batches_test_remaining;
SELECT (credits.redeem_credits(1, 1, reference => 'refused')).balance_after;
SELECT (credits.redeem_credits(1, 1)).balance_after;

-- The rows are written in the statement's order: a redemption's ledger
-- entry before its operation, a grant's sale before its ledger entry (a
-- statement's WITH queries that nothing reads run to completion after
-- the rest, the last one first).  With both tables refusing, the same one
-- is named by the statement (a trigger on the batches forcing it) and
-- directly.
ALTER TABLE credits.ledger ADD CONSTRAINT ledger_test_order CHECK (account_id <> 1) NOT VALID;
ALTER TABLE credits.operations ADD CONSTRAINT operations_test_order
    CHECK (account_id <> 1) NOT VALID;
CREATE TRIGGER batches_test_order AFTER INSERT ON credits.batches
    FOR EACH ROW EXECUTE FUNCTION public.note_ledger_row();
\set VERBOSITY terse
SELECT credits.redeem_credits(1, 1);
DROP TRIGGER batches_test_order ON credits.batches;
SELECT credits.redeem_credits(1, 1);
ALTER TABLE credits.operations DROP CONSTRAINT operations_test_order;
ALTER TABLE credits.sales ADD CONSTRAINT sales_test_order CHECK (account_id <> 1) NOT VALID;
CREATE TRIGGER batches_test_order AFTER INSERT ON credits.batches
    FOR EACH ROW EXECUTE FUNCTION public.note_ledger_row();
SELECT credits.grant_package(1, 1);
DROP TRIGGER batches_test_order ON credits.batches;
SELECT credits.grant_package(1, 1);
\set VERBOSITY default
ALTER TABLE credits.ledger DROP CONSTRAINT ledger_test_order;
ALTER TABLE credits.sales DROP CONSTRAINT sales_test_order;

-- A sale the sales table refuses, on the direct grant: nothing is left.
ALTER TABLE credits.sales ADD CONSTRAINT sales_test_payment CHECK (payment_ref <> 'refused');
\set VERBOSITY terse
SELECT credits.grant_package(1, 1, payment_ref => 'refused');
\set VERBOSITY default
SELECT credits.balance(1),
       (SELECT count(*) FROM credits.operations WHERE account_id = 1) AS operations,
       (SELECT count(*) FROM credits.batches WHERE account_id = 1) AS batches,
       (SELECT count(*) FROM credits.sales WHERE account_id = 1) AS sales;
ALTER TABLE credits.sales DROP CONSTRAINT sales_test_payment;

-- Columns added with defaults are filled in on the direct path, as an
-- INSERT statement would (held is 0 by its own default); no DEBUG line.
ALTER TABLE credits.batches ADD COLUMN test_note text DEFAULT 'noted';
ALTER TABLE credits.ledger ADD COLUMN test_seq bigserial;
SET client_min_messages = debug1;
SELECT credits.grant_credits(1, 4) AS new_batch \gset
SELECT (credits.redeem_credits(1, 1)).operation_id AS redeemed \gset
RESET client_min_messages;
SELECT held, test_note FROM credits.batches WHERE account_id = 1 AND batch_id = :new_batch;
-- the rows there were numbered by ALTER TABLE, the new ones by their default
SELECT l.operation_id = :redeemed AS is_the_redemption,
       l.test_seq = (SELECT count(*) FROM credits.ledger) AS numbered_last
  FROM credits.ledger AS l
 WHERE l.test_seq = (SELECT max(test_seq) FROM credits.ledger);
ALTER TABLE credits.batches DROP COLUMN test_note;
ALTER TABLE credits.ledger DROP COLUMN test_seq;

-- A generated column: the statement computes it, so it does the work.
ALTER TABLE credits.sales ADD COLUMN test_price_cents numeric
    GENERATED ALWAYS AS (price * 100) STORED;
SET client_min_messages = debug1;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-2') > 0 AS sold;
RESET client_min_messages;
SELECT payment_ref, test_price_cents FROM credits.sales WHERE account_id = 1 ORDER BY payment_ref;
ALTER TABLE credits.sales DROP COLUMN test_price_cents;

-- A column of another type than the one written (here a type modifier):
-- the statement does the work, and its length check applies.
ALTER TABLE credits.ledger ALTER COLUMN reference TYPE varchar(12);
SET client_min_messages = debug1;
\set VERBOSITY terse
SELECT credits.redeem_credits(1, 1, reference => 'a reference too long');
\set VERBOSITY default
SELECT (credits.redeem_credits(1, 1, reference => 'short')).balance_after;
RESET client_min_messages;
ALTER TABLE credits.ledger ALTER COLUMN reference TYPE text;

-- A rule on a table written: not bypassed.  The statement, a WITH query,
-- refuses a DO ALSO rule, so the grant is refused too.
CREATE RULE sales_test_rule AS ON INSERT TO credits.sales DO ALSO SELECT 1;
SET client_min_messages = debug1;
\set VERBOSITY terse
SELECT credits.grant_package(1, 1, payment_ref => 'pay-3');
\set VERBOSITY default
RESET client_min_messages;
DROP RULE sales_test_rule ON credits.sales;
SELECT count(*) AS sales FROM credits.sales WHERE account_id = 1;
SELECT * FROM credits.verify_ledger();

-- The reads (src/direct_read.c): the account locked and the package sold
-- are read without a statement, and give way to it when a table has
-- row-level security (the statement applies the policies), or has no
-- primary key (looked up again once it has one).  The sale goes through
-- either way.
ALTER TABLE credits.packages ENABLE ROW LEVEL SECURITY;
ALTER TABLE credits.accounts ENABLE ROW LEVEL SECURITY;
SET client_min_messages = debug1;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-4') > 0 AS sold;
RESET client_min_messages;
ALTER TABLE credits.packages DISABLE ROW LEVEL SECURITY;
ALTER TABLE credits.accounts DISABLE ROW LEVEL SECURITY;
ALTER TABLE credits.packages DROP CONSTRAINT packages_pkey;
SET client_min_messages = debug1;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-5') > 0 AS sold;
RESET client_min_messages;
ALTER TABLE credits.packages ADD PRIMARY KEY (package_id);
SET client_min_messages = debug1;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-6') > 0 AS sold;
RESET client_min_messages;
-- The calling command's own change to the account row is seen, as by the
-- statement: the row it updated is locked, not skipped.
UPDATE credits.accounts SET timezone = 'UTC' WHERE account_id = 1
RETURNING (credits.redeem_credits(1, 1)).amount AS redeemed;
-- A read-only transaction: the statement refuses the lock, with its message.
BEGIN READ ONLY;
SET LOCAL client_min_messages = debug1;
SELECT credits.redeem_credits(1, 1);
ROLLBACK;
-- The same for the index a direct grant reads the running total through:
-- renamed, the statement writes; renamed back, the grant is direct again.
ALTER INDEX credits.account_totals_pkey RENAME TO account_totals_key_renamed;
SET client_min_messages = debug1;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-7') > 0 AS sold;
RESET client_min_messages;
ALTER INDEX credits.account_totals_key_renamed RENAME TO account_totals_pkey;
SET client_min_messages = debug1;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-8') > 0 AS sold;
RESET client_min_messages;
SELECT payment_ref FROM credits.sales WHERE account_id = 1 AND payment_ref > 'pay-3' ORDER BY payment_ref;
SELECT * FROM credits.verify_ledger();

-- What the direct writes keep between calls (src/direct_write.c): each
-- index's description, with a partial index's predicate ready to
-- evaluate, and the CHECK constraints ready to evaluate.  An index
-- created in the session is written at the next call, a unique one is
-- checked, and its predicate decides which rows it holds: pay-9 once,
-- not twice; pay-10 (outside the predicate) still sells.  All directly:
-- no DEBUG line.
CREATE UNIQUE INDEX sales_test_once ON credits.sales (account_id) WHERE payment_ref = 'pay-9';
SET client_min_messages = debug1;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-9') > 0 AS sold;
\set VERBOSITY terse
SELECT credits.grant_package(1, 1, payment_ref => 'pay-9');
\set VERBOSITY default
SELECT credits.grant_package(1, 1, payment_ref => 'pay-10') > 0 AS sold;
-- The error cut that call short inside a subtransaction: once it is rolled
-- back, the next call in the same transaction is direct again.
DO $$
BEGIN
    BEGIN
        PERFORM credits.grant_package(1, 1, payment_ref => 'pay-9');
    EXCEPTION WHEN unique_violation THEN
        RAISE NOTICE 'pay-9 refused again';
    END;
    PERFORM credits.grant_package(1, 1, payment_ref => 'pay-11');
END $$;
RESET client_min_messages;
SELECT * FROM public.indexes_checked() WHERE relname = 'sales_test_once';
DROP INDEX credits.sales_test_once;
-- An index that stops taking entries, as DROP INDEX CONCURRENTLY marks it
-- (here by updating pg_index as that command does, which invalidates the
-- index and not its table), is seen at the next call: the grant of pay-14
-- writes no entry into it, so an index scan finds pay-13 only.
CREATE INDEX sales_test_dead ON credits.sales (payment_ref);
SELECT credits.grant_package(1, 1, payment_ref => 'pay-13') > 0 AS sold;
UPDATE pg_catalog.pg_index SET indisready = false, indisvalid = false
 WHERE indexrelid = 'credits.sales_test_dead'::regclass;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-14') > 0 AS sold;
UPDATE pg_catalog.pg_index SET indisready = true, indisvalid = true
 WHERE indexrelid = 'credits.sales_test_dead'::regclass;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT payment_ref FROM credits.sales WHERE payment_ref IN ('pay-13', 'pay-14');
SELECT payment_ref FROM credits.sales WHERE payment_ref IN ('pay-13', 'pay-14');
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP INDEX credits.sales_test_dead;
-- An index of another access method gets its entries at every call: a
-- hash index, and a GIN index, which keeps state of its own in the index's
-- description (so that description is built per call).
CREATE INDEX ledger_test_hash ON credits.ledger USING hash (reference);
CREATE INDEX batches_test_gin ON credits.batches USING gin (service_ids);
SET client_min_messages = debug1;
SELECT (credits.redeem_credits(1, 1, reference => 'hashed')).balance_after;
SELECT credits.grant_credits(1, 1, services => ARRAY[1::bigint]) > 0 AS granted;
SELECT credits.grant_credits(1, 1, services => ARRAY[1::bigint]) > 0 AS granted;
RESET client_min_messages;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM credits.ledger WHERE reference = 'hashed';
SELECT count(*) AS found_through_the_hash_index FROM credits.ledger WHERE reference = 'hashed';
RESET enable_bitmapscan;
EXPLAIN (COSTS OFF) SELECT count(*) FROM credits.batches WHERE service_ids @> ARRAY[1::bigint];
SELECT count(*) AS found_through_the_gin_index,
       (SELECT count(*) FROM credits.batches AS b
         WHERE 1 = ANY (b.service_ids)) AS batches_for_the_service
  FROM credits.batches WHERE service_ids @> ARRAY[1::bigint];
RESET enable_seqscan;
DROP INDEX credits.ledger_test_hash;
DROP INDEX credits.batches_test_gin;
-- A CHECK constraint with a whole-row reference, whose state keeps the row
-- type in the call's memory: built per call, so the second write works
-- as the first.
ALTER TABLE credits.ledger ADD CONSTRAINT ledger_test_whole_row
    CHECK (pg_catalog.row_to_json(ledger) IS NOT NULL);
SET client_min_messages = debug1;
SELECT (credits.redeem_credits(1, 1, reference => 'whole row 1')).balance_after;
SELECT (credits.redeem_credits(1, 1, reference => 'whole row 2')).balance_after;
RESET client_min_messages;
ALTER TABLE credits.ledger DROP CONSTRAINT ledger_test_whole_row;
-- A credits call made while a direct call is evaluating what it keeps
-- (here a CHECK constraint on the sales that grants credits to account 3
-- once) does not evaluate it again: it writes by statement, and the DEBUG
-- line says so.  Both grants are written.
CREATE FUNCTION public.grant_on_sale(account bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('test.grant_on_sale', true) = 'on' THEN
        PERFORM set_config('test.grant_on_sale', 'off', true);
        PERFORM credits.grant_credits(3, 1, reference => 'granted on sale to ' || account);
    END IF;
    RETURN true;
END $$;
ALTER TABLE credits.sales ADD CONSTRAINT sales_test_grant CHECK (public.grant_on_sale(account_id));
SELECT credits.grant_credits(3, 1) > 0 AS granted;
BEGIN;
SELECT set_config('test.grant_on_sale', 'on', true);
SET LOCAL client_min_messages = debug1;
SELECT credits.grant_package(1, 1, payment_ref => 'pay-12') > 0 AS sold;
COMMIT;
ALTER TABLE credits.sales DROP CONSTRAINT sales_test_grant;
DROP FUNCTION public.grant_on_sale(bigint);
SELECT reference FROM credits.batches WHERE account_id = 3 ORDER BY batch_id;
SELECT payment_ref, count(*) FROM credits.sales
 WHERE account_id = 1
   AND payment_ref IN ('pay-9', 'pay-10', 'pay-11', 'pay-12', 'pay-13', 'pay-14')
 GROUP BY payment_ref ORDER BY payment_ref;

-- A default is evaluated only where the statement would evaluate it.  The
-- defaults below draw from a sequence and give null.  A redemption names
-- the service of its operation and of its ledger entry (null here), so
-- neither runs, directly (no DEBUG line) or by the statement (account 2,
-- the trigger forcing it); a grant names neither: both run.
CREATE SEQUENCE public.defaults_run;
ALTER TABLE credits.operations ALTER COLUMN service_id
    SET DEFAULT CASE WHEN nextval('public.defaults_run') < 0 THEN 0 END;
ALTER TABLE credits.ledger ALTER COLUMN service_id
    SET DEFAULT CASE WHEN nextval('public.defaults_run') < 0 THEN 0 END;
SET client_min_messages = debug1;
SELECT (credits.redeem_credits(1, 1)).balance_after IS NOT NULL AS redeemed;
RESET client_min_messages;
SELECT last_value, is_called FROM public.defaults_run;
CREATE TRIGGER note_ledger_row AFTER INSERT ON credits.ledger
    FOR EACH ROW EXECUTE FUNCTION public.note_ledger_row();
SET client_min_messages = debug1;
SELECT (credits.redeem_credits(2, 1)).balance_after IS NOT NULL AS redeemed;
RESET client_min_messages;
DROP TRIGGER note_ledger_row ON credits.ledger;
SELECT last_value, is_called FROM public.defaults_run;
SELECT credits.grant_credits(1, 1, reference => 'defaults') > 0 AS granted;
SELECT last_value, is_called FROM public.defaults_run;
ALTER TABLE credits.operations ALTER COLUMN service_id DROP DEFAULT;
ALTER TABLE credits.ledger ALTER COLUMN service_id DROP DEFAULT;
DROP SEQUENCE public.defaults_run;

SELECT * FROM public.indexes_checked();
SELECT * FROM credits.verify_ledger();

-- The extension dropped and created again in the same session: the next
-- redemption finds the new tables.
DROP EXTENSION credits;
CREATE EXTENSION credits;
SELECT credits.grant_credits(1, 2) > 0 AS granted;
SET client_min_messages = debug1;
SELECT (credits.redeem_credits(1, 1)).balance_after;
RESET client_min_messages;
SELECT * FROM credits.verify_ledger();

DROP FUNCTION public.indexes_checked();
DROP PROCEDURE public.write_the_same(bigint);
DROP FUNCTION public.note_ledger_row();
DROP TABLE public.ledger_rows_seen;
DROP EXTENSION amcheck;
DROP EXTENSION credits;
