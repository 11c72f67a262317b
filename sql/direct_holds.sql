-- The direct hold (src/direct_hold.c): a hold that one batch covers is
-- written through the table access method, not by statements.  It must
-- write what the statements write, keep every constraint, fill in every
-- default, leave every index whole, and give way to the statements when a
-- table has a trigger.  Account 1 is written directly, account 2 by the
-- statements (a trigger on the holds is in place for it), with the same
-- calls; then both are compared.
CREATE EXTENSION credits;
CREATE EXTENSION amcheck;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

INSERT INTO credits.services VALUES (1, 'Yoga class', true, 1, 'credit');

-- A trigger on the holds counts the rows it sees.
CREATE TABLE public.hold_rows_seen (account_id bigint, hold_id bigint);
CREATE FUNCTION public.note_hold_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.hold_rows_seen VALUES (NEW.account_id, NEW.hold_id);
    RETURN NEW;
END $$;

-- The calls, as one procedure so that both accounts get exactly the same.
-- Batches: A (2 credits, 10 days), Y (3, yoga only, 5 days), P (10,
-- permanent).  Holds: 1 from A until a given time, captured; a yoga class
-- from Y (it expires first), released; 1 with a key from A, retried (A is
-- then all held, so it leaves the spendable batches); 2 from P until a
-- given time; 4 yoga
-- classes, more than Y has (3 from Y and 1 from P: the statements, both
-- times); 1 for yoga from P (Y is all held now), captured in part.
CREATE PROCEDURE public.hold_the_same(a bigint) LANGUAGE plpgsql AS $$
DECLARE
    h bigint;
BEGIN
    PERFORM credits.grant_credits(a, 2, expires_at => date_trunc('day', now()) + interval '10 days');
    PERFORM credits.grant_credits(a, 3, expires_at => date_trunc('day', now()) + interval '5 days',
                                  services => ARRAY[1::bigint]);
    PERFORM credits.grant_credits(a, 10, reference => 'permanent');
    h := (credits.hold_credits(a, 1, reference => 'first',
                               hold_until => '2100-01-01 00:00+00')).hold_id;
    PERFORM credits.capture_hold(a, h);
    h := (credits.hold_service(a, 1, reference => 'yoga')).hold_id;
    PERFORM credits.release_hold(a, h);
    PERFORM credits.hold_credits(a, 1, idempotency_key => 'kept');
    PERFORM credits.hold_credits(a, 1, idempotency_key => 'kept');
    PERFORM credits.hold_credits(a, 2, reference => 'two', hold_until => '2100-01-01 00:00+00');
    PERFORM credits.hold_service(a, 1, 4, reference => 'four classes');
    h := (credits.hold_credits(a, 1, service_id => 1, reference => 'with service')).hold_id;
    PERFORM credits.capture_hold(a, h, 0.5);
END $$;

-- Without a trigger: no statement is needed, so no DEBUG line.
SET client_min_messages = debug1;
CALL public.hold_the_same(1);
RESET client_min_messages;

-- With the trigger: the statements do it, and the DEBUG line says why
-- (once a hold but for the retry, which replays), and the trigger sees
-- every hold.
CREATE TRIGGER note_hold_row AFTER INSERT ON credits.holds
    FOR EACH ROW EXECUTE FUNCTION public.note_hold_row();
SET client_min_messages = debug1;
CALL public.hold_the_same(2);
RESET client_min_messages;
SELECT count(*) AS rows_seen_by_the_trigger,
       (SELECT count(*) FROM credits.holds WHERE account_id = 2) AS holds
  FROM public.hold_rows_seen;
DROP TRIGGER note_hold_row ON credits.holds;

-- Both accounts' books are the same, row for row, but for the ids (in
-- the requests of captures and releases too) and times (the accounts are
-- written in two transactions).
CREATE VIEW public.books AS
    SELECT account_id, 'batch' AS what,
           format('%s remaining %s held %s open %s services %s ref %s',
                  b.amount, b.remaining, b.held, b.is_open, b.service_ids, b.reference) AS row
      FROM credits.batches AS b
    UNION ALL
    SELECT account_id, 'total', format('%s %s', t.credit_type, t.total)
      FROM credits.account_totals AS t
    UNION ALL
    SELECT account_id, 'operation',
           format('%s %s key %s service %s ref %s balance %s refund %s hold %s membership %s: %s',
                  o.kind, o.amount, o.idempotency_key, o.service_id, o.reference,
                  o.balance_after, o.refund_of IS NOT NULL, o.hold_id IS NOT NULL,
                  o.membership_id, regexp_replace(o.request, 'hold_id=[0-9]+', 'hold_id=#'))
      FROM credits.operations AS o
    UNION ALL
    SELECT account_id, 'entry',
           format('%s %s %s balance %s service %s ref %s', l.entry_no, l.kind, l.delta,
                  l.balance_after, l.service_id, l.reference)
      FROM credits.ledger AS l
    UNION ALL
    SELECT account_id, 'hold',
           format('%s %s captured %s released %s service %s quantity %s until %s membership %s ref %s closed %s by %s',
                  h.status, h.amount, h.captured, h.released, h.service_id, h.quantity,
                  h.hold_until, h.membership_id, h.reference, h.closed_at IS NOT NULL,
                  h.closed_by IS NOT NULL)
      FROM credits.holds AS h
    UNION ALL
    SELECT account_id, 'allocation',
           format('%s from the batch of %s: %s, %s kept', a.entry_no, b.amount, a.amount,
                  a.remaining)
      FROM credits.hold_allocations AS a JOIN credits.batches AS b USING (account_id, batch_id);
SELECT what, row FROM public.books WHERE account_id = 1 AND what IN ('batch', 'total', 'hold', 'allocation')
 ORDER BY what, row;
SELECT 'only on account ' || account_id AS difference, what, row FROM (
    (SELECT 1 AS account_id, what, row FROM public.books WHERE account_id = 1
     EXCEPT ALL
     SELECT 1, what, row FROM public.books WHERE account_id = 2)
    UNION ALL
    (SELECT 2, what, row FROM public.books WHERE account_id = 2
     EXCEPT ALL
     SELECT 2, what, row FROM public.books WHERE account_id = 1)) AS d;
-- a hold's id is the id of the operation that placed it
SELECT h.account_id, count(*) AS holds, count(o.operation_id) AS placed_by_their_operation
  FROM credits.holds AS h
  LEFT JOIN credits.operations AS o
    ON o.account_id = h.account_id AND o.operation_id = h.hold_id
   AND o.kind IN ('hold_credits', 'hold_service')
 GROUP BY h.account_id ORDER BY h.account_id;
SELECT * FROM credits.verify_ledger();

-- Every index of the tables a hold writes holds exactly the rows of its
-- table (amcheck with heapallindexed: a missing index entry is an error).
CREATE FUNCTION public.indexes_checked() RETURNS TABLE (relname name, checked text)
LANGUAGE sql AS $$
    SELECT c.relname, public.bt_index_check(c.oid, true)::text
      FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
     WHERE i.indrelid IN ('credits.batches'::regclass, 'credits.operations'::regclass,
                          'credits.holds'::regclass, 'credits.hold_allocations'::regclass)
     ORDER BY c.relname
$$;
SELECT * FROM public.indexes_checked();
-- the open holds with a time limit (one an account) are found through
-- holds_due_idx
SET enable_seqscan = off;
SELECT count(*) AS due_by_2100 FROM credits.holds
 WHERE status = 'open' AND hold_until IS NOT NULL AND hold_until <= '2100-01-01 00:00+00';
RESET enable_seqscan;

-- A constraint holds on the direct hold too, and the last row written
-- (the allocation) being refused leaves nothing of the call.  6 credits
-- from P (9.5 remaining, 3 held) would be direct.
ALTER TABLE credits.hold_allocations ADD CONSTRAINT hold_allocations_test CHECK (amount <> 6);
\set VERBOSITY terse
SELECT credits.hold_credits(1, 6);
\set VERBOSITY default
SELECT b.held, (SELECT count(*) FROM credits.holds WHERE account_id = 1) AS holds,
       (SELECT count(*) FROM credits.operations WHERE account_id = 1) AS operations
  FROM credits.batches AS b WHERE b.account_id = 1 AND b.reference = 'permanent';
ALTER TABLE credits.hold_allocations DROP CONSTRAINT hold_allocations_test;

-- A column added with a default is filled in, as by the INSERT statement
-- (and status, captured and released by theirs); no DEBUG line.
ALTER TABLE credits.holds ADD COLUMN test_note text DEFAULT 'noted';
SET client_min_messages = debug1;
SELECT (credits.hold_credits(1, 6)).hold_id AS six \gset
RESET client_min_messages;
SELECT status, amount, captured, released, test_note FROM credits.holds
 WHERE account_id = 1 AND hold_id = :six;
SELECT b.held, b.is_open FROM credits.batches AS b
 WHERE b.account_id = 1 AND b.reference = 'permanent';
ALTER TABLE credits.holds DROP COLUMN test_note;
SELECT (credits.capture_hold(1, :six)).balance_after;
-- The operation names its refund, hold and membership, as the statement
-- recording it does: null for a hold, whatever their defaults.
ALTER TABLE credits.operations ALTER COLUMN membership_id SET DEFAULT 42;
SET client_min_messages = debug1;
SELECT (credits.hold_credits(1, 0.25)).hold_id AS one \gset
RESET client_min_messages;
SELECT membership_id IS NULL AS no_membership, hold_id IS NULL AS no_hold,
       refund_of IS NULL AS no_refund
  FROM credits.operations WHERE account_id = 1 AND operation_id = :one;
ALTER TABLE credits.operations ALTER COLUMN membership_id DROP DEFAULT;
SELECT credits.release_hold(1, :one);
SELECT * FROM public.indexes_checked();
SELECT * FROM credits.verify_ledger();

DROP VIEW public.books;
DROP FUNCTION public.indexes_checked();
DROP PROCEDURE public.hold_the_same(bigint);
DROP FUNCTION public.note_hold_row();
DROP TABLE public.hold_rows_seen;
DROP EXTENSION amcheck;
DROP EXTENSION credits;
