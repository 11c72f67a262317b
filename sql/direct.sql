-- The direct redemption (src/direct_redeem.c): a redemption that one batch
-- covers is written through the table access method, not by a statement.
-- It must write what the statement writes, keep every constraint, leave
-- every index whole, and give way to the statement when a table has a
-- trigger.  Account 1 is redeemed from directly, account 2 by the
-- statement (a trigger on the ledger is in place for it), with the same
-- calls; then both are compared.
CREATE EXTENSION credits;
CREATE EXTENSION amcheck;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

INSERT INTO credits.services VALUES (1, 'Yoga class', true, 1, 'credit');

-- the same batches on both accounts: 2 credits expiring first, 3 for yoga
-- only, 10 permanent
SELECT count(*) AS batches_granted FROM (
    SELECT credits.grant_credits(a, 2, expires_at => date_trunc('day', now()) + interval '10 days'),
           credits.grant_credits(a, 3, expires_at => date_trunc('day', now()) + interval '5 days',
                                 services => ARRAY[1::bigint]),
           credits.grant_credits(a, 10)
      FROM generate_series(1, 2) AS a) AS granted;

-- A trigger on the ledger counts the rows it sees.
CREATE TABLE public.ledger_rows_seen (account_id bigint, operation_id bigint);
CREATE FUNCTION public.note_ledger_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.ledger_rows_seen VALUES (NEW.account_id, NEW.operation_id);
    RETURN NEW;
END $$;

-- The calls, as one procedure so that both accounts get exactly the same:
-- one credit (from the first batch), one more (it drains that batch, so
-- the update moves the batch out of the spendable index), one for yoga
-- (the restricted batch expires first), a retried key, 5 credits for yoga
-- (more than the first batch has: the general path, both times) and a
-- quarter of a credit.
CREATE PROCEDURE public.redeem_the_same(a bigint) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credits.redeem_credits(a, 1, reference => 'first');
    PERFORM credits.redeem_credits(a, 1, idempotency_key => 'second');
    PERFORM credits.redeem_credits(a, 1, idempotency_key => 'second');
    PERFORM credits.redeem_service(a, 1, 1, reference => 'yoga');
    PERFORM credits.redeem_credits(a, 5, service_id => 1, reference => 'five');
    PERFORM credits.redeem_credits(a, 0.25);
END $$;

-- Without a trigger: no statement is needed, so no DEBUG line.
SET client_min_messages = debug1;
CALL public.redeem_the_same(1);
RESET client_min_messages;

-- With the trigger: the statement does it, and the DEBUG line says why
-- (once a call but for the retry, which replays), and the trigger sees
-- every ledger row.
CREATE TRIGGER note_ledger_row AFTER INSERT ON credits.ledger
    FOR EACH ROW EXECUTE FUNCTION public.note_ledger_row();
SET client_min_messages = debug1;
CALL public.redeem_the_same(2);
RESET client_min_messages;
SELECT count(*) AS rows_seen_by_the_trigger,
       (SELECT count(*) FROM credits.ledger WHERE account_id = 2 AND kind = 'redeem') AS ledger_rows
  FROM public.ledger_rows_seen;
DROP TRIGGER note_ledger_row ON credits.ledger;

-- Both accounts' books are the same, row for row, but for the ids.
CREATE VIEW public.books AS
    SELECT account_id, 'batch' AS what,
           format('%s remaining %s held %s open %s', b.amount, b.remaining, b.held, b.is_open) AS row
      FROM credits.batches AS b
    UNION ALL
    SELECT account_id, 'total', format('%s %s', t.credit_type, t.total)
      FROM credits.account_totals AS t
    UNION ALL
    SELECT account_id, 'operation',
           format('%s %s %s %s key %s service %s ref %s balance %s', o.kind, o.request, o.amount,
                  o.credit_type, o.idempotency_key, o.service_id, o.reference, o.balance_after)
      FROM credits.operations AS o
    UNION ALL
    SELECT account_id, 'entry',
           format('%s %s %s %s balance %s service %s ref %s', l.entry_no, l.kind, l.credit_type,
                  l.delta, l.balance_after, l.service_id, l.reference)
      FROM credits.ledger AS l;
-- (grants are left out of this listing: their request holds a date)
SELECT what, row FROM public.books WHERE account_id = 1 AND row NOT LIKE 'grant%' ORDER BY what, row;
SELECT 'only on account ' || account_id AS difference, what, row FROM (
    (SELECT 1 AS account_id, what, row FROM public.books WHERE account_id = 1
     EXCEPT ALL
     SELECT 1, what, row FROM public.books WHERE account_id = 2)
    UNION ALL
    (SELECT 2, what, row FROM public.books WHERE account_id = 2
     EXCEPT ALL
     SELECT 2, what, row FROM public.books WHERE account_id = 1)) AS d;
SELECT * FROM credits.verify_ledger();

-- Every index of the four tables holds exactly the rows of its table
-- (amcheck with heapallindexed: a missing index entry is an error).
SELECT c.relname, public.bt_index_check(c.oid, true)
  FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
 WHERE i.indrelid IN ('credits.batches'::regclass, 'credits.account_totals'::regclass,
                      'credits.operations'::regclass, 'credits.ledger'::regclass)
 ORDER BY c.relname;

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

-- The extension dropped and created again in the same session: the next
-- redemption finds the new tables.
DROP VIEW public.books;
DROP EXTENSION credits;
CREATE EXTENSION credits;
SELECT credits.grant_credits(1, 2) > 0 AS granted;
SET client_min_messages = debug1;
SELECT (credits.redeem_credits(1, 1)).balance_after;
RESET client_min_messages;
SELECT * FROM credits.verify_ledger();

DROP PROCEDURE public.redeem_the_same(bigint);
DROP FUNCTION public.note_ledger_row();
DROP TABLE public.ledger_rows_seen;
DROP EXTENSION amcheck;
DROP EXTENSION credits;
