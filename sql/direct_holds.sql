-- The direct holds and captures (src/direct_hold.c, src/direct_capture.c):
-- a hold that one batch covers, and the capture of a hold that keeps
-- credits of one batch, are written through the table access method, not
-- by statements.  They must write what the statements write, keep every
-- constraint, fill in every default, leave every index whole, and give
-- way to the statements when a table has a trigger.  Account 1 is written
-- directly, account 2 by the statements (a trigger on the holds is in
-- place for it), with the same calls; then both are compared.
-- pg_stat_statements counts the statements that run, to show which path
-- each call took.
CREATE EXTENSION credits;
CREATE EXTENSION amcheck;
CREATE EXTENSION pg_stat_statements;
SET pg_stat_statements.track = 'all';
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

-- How often the statements that insert a hold and close one ran since the
-- last reset, in this database.
CREATE FUNCTION public.statements_run() RETURNS TABLE (holds_inserted bigint, holds_closed bigint)
LANGUAGE sql AS $$
    SELECT coalesce(sum(calls) FILTER (WHERE query LIKE 'WITH hold AS (%INSERT INTO credits.holds%'), 0),
           coalesce(sum(calls) FILTER (WHERE query LIKE 'UPDATE credits.holds SET status%'), 0)
      FROM public.pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
$$;

-- The calls, as one procedure so that both accounts get exactly the same.
-- Batches: A (2 credits, 10 days), Y (3, yoga only, 5 days), P (10,
-- permanent).  Holds: 1 from A until a given time, captured; a yoga class
-- from Y (it expires first), released (a release is never direct); 1 with
-- a key from A, retried (A is then all held, so it leaves the spendable
-- batches); 2 from P until a given time; 4 yoga classes, more than Y has
-- (3 from Y and 1 from P: the statements, both times); 1 for yoga from P
-- (Y is all held now), half of it captured (the rest goes back to P).
-- Then S, 2.50 credits expiring first, all held by a hold of 2.5 and
-- captured: what the batch gives is 2.50, with its own scale, on both
-- paths.
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
    PERFORM credits.grant_credits(a, 2.50, reference => 'scale',
                                  expires_at => date_trunc('day', now()) + interval '3 days');
    h := (credits.hold_credits(a, 2.5, reference => 'scale')).hold_id;
    PERFORM credits.capture_hold(a, h, idempotency_key => 'scale');
    PERFORM credits.capture_hold(a, h, idempotency_key => 'scale');
END $$;

-- Directly: the statements ran only for the hold of four classes (two
-- batches) and the release.
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
CALL public.hold_the_same(1);
SELECT * FROM public.statements_run();

-- With the trigger: the statements ran for every hold (but the retry,
-- which replays) and every capture and release, and the trigger saw every
-- hold.
CREATE TRIGGER note_hold_row AFTER INSERT ON credits.holds
    FOR EACH ROW EXECUTE FUNCTION public.note_hold_row();
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
CALL public.hold_the_same(2);
SELECT * FROM public.statements_run();
SELECT count(*) AS rows_seen_by_the_trigger,
       (SELECT count(*) FROM credits.holds WHERE account_id = 2) AS holds
  FROM public.hold_rows_seen;
-- and says why, once a call
SET client_min_messages = debug1;
SELECT (credits.hold_credits(2, 0.5)).hold_id AS half \gset
SELECT (credits.capture_hold(2, :half)).amount;
RESET client_min_messages;
DROP TRIGGER note_hold_row ON credits.holds;
SELECT (credits.capture_hold(1, (credits.hold_credits(1, 0.5)).hold_id)).amount;

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
SELECT what, row FROM public.books
 WHERE account_id = 1 AND what IN ('batch', 'total', 'hold', 'allocation', 'entry')
 ORDER BY what, row;
SELECT 'only on account ' || account_id AS difference, what, row FROM (
    (SELECT 1 AS account_id, what, row FROM public.books WHERE account_id = 1
     EXCEPT ALL
     SELECT 1, what, row FROM public.books WHERE account_id = 2)
    UNION ALL
    (SELECT 2, what, row FROM public.books WHERE account_id = 2
     EXCEPT ALL
     SELECT 2, what, row FROM public.books WHERE account_id = 1)) AS d;
-- a hold's id is the id of the operation that placed it, and a closed
-- hold's closed_by the operation that closed it
SELECT h.account_id, count(*) AS holds, count(o.operation_id) AS placed_by_their_operation,
       count(c.operation_id) AS closed_by_their_operation, count(h.closed_by) AS closed
  FROM credits.holds AS h
  LEFT JOIN credits.operations AS o
    ON o.account_id = h.account_id AND o.operation_id = h.hold_id
   AND o.kind IN ('hold_credits', 'hold_service')
  LEFT JOIN credits.operations AS c
    ON c.account_id = h.account_id AND c.operation_id = h.closed_by AND c.hold_id = h.hold_id
 GROUP BY h.account_id ORDER BY h.account_id;
SELECT * FROM credits.verify_ledger();

-- Every index of the tables a hold or capture writes holds exactly the
-- rows of its table (amcheck with heapallindexed: a missing index entry
-- is an error).
CREATE FUNCTION public.indexes_checked() RETURNS TABLE (relname name, checked text)
LANGUAGE sql AS $$
    SELECT c.relname, public.bt_index_check(c.oid, true)::text
      FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
     WHERE i.indrelid IN ('credits.batches'::regclass, 'credits.account_totals'::regclass,
                          'credits.operations'::regclass, 'credits.ledger'::regclass,
                          'credits.holds'::regclass, 'credits.hold_allocations'::regclass)
     ORDER BY c.relname
$$;
SELECT * FROM public.indexes_checked();
-- the open holds with a time limit (one an account) through holds_due_idx
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM credits.holds
 WHERE status = 'open' AND hold_until IS NOT NULL AND hold_until <= '2100-01-01 00:00+00';
SELECT count(*) AS due_by_2100 FROM credits.holds
 WHERE status = 'open' AND hold_until IS NOT NULL AND hold_until <= '2100-01-01 00:00+00';
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Constraints hold on the direct hold too.  A hold of 6 credits from P
-- (9.0 remaining, 3.0 held) is direct, and refused by both tables: the
-- allocation is refused first, as by the statements (their WITH query
-- inserting the hold runs after the main query inserting the
-- allocations), here with the trigger forcing them, then directly.  The
-- error ends the call, and nothing of it is left.
ALTER TABLE credits.holds ADD CONSTRAINT holds_test CHECK (amount <> 6);
ALTER TABLE credits.hold_allocations ADD CONSTRAINT hold_allocations_test CHECK (amount <> 6);
CREATE TRIGGER note_hold_row AFTER INSERT ON credits.holds
    FOR EACH ROW EXECUTE FUNCTION public.note_hold_row();
\set VERBOSITY terse
SELECT credits.hold_credits(1, 6);
DROP TRIGGER note_hold_row ON credits.holds;
SELECT credits.hold_credits(1, 6);
ALTER TABLE credits.hold_allocations DROP CONSTRAINT hold_allocations_test;
SELECT credits.hold_credits(1, 6);
\set VERBOSITY default
ALTER TABLE credits.holds DROP CONSTRAINT holds_test;
SELECT b.held, (SELECT count(*) FROM credits.holds WHERE account_id = 1) AS holds,
       (SELECT count(*) FROM credits.operations WHERE account_id = 1) AS operations
  FROM credits.batches AS b WHERE b.account_id = 1 AND b.reference = 'permanent';

-- A column added with a default is filled in, as by the INSERT statement
-- (and status, captured and released by theirs); directly, as the
-- statement count shows.
ALTER TABLE credits.holds ADD COLUMN test_note text DEFAULT 'noted';
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT (credits.hold_credits(1, 6)).hold_id AS six \gset
SELECT * FROM public.statements_run();
SELECT status, amount, captured, released, test_note FROM credits.holds
 WHERE account_id = 1 AND hold_id = :six;
SELECT b.held, b.is_open FROM credits.batches AS b
 WHERE b.account_id = 1 AND b.reference = 'permanent';
ALTER TABLE credits.holds DROP COLUMN test_note;
SELECT (credits.capture_hold(1, :six)).balance_after;
-- The operations name their refund, hold and membership, as the
-- statement recording them does: none for a hold, the hold for its
-- capture, whatever the columns' defaults.
ALTER TABLE credits.operations ALTER COLUMN refund_of SET DEFAULT 41;
ALTER TABLE credits.operations ALTER COLUMN hold_id SET DEFAULT 42;
ALTER TABLE credits.operations ALTER COLUMN membership_id SET DEFAULT 43;
SELECT credits.grant_credits(1, 1, reference => 'for the quarter') > 0 AS granted;
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT (credits.hold_credits(1, 0.25)).hold_id AS quarter \gset
SELECT (credits.capture_hold(1, :quarter)).operation_id AS quarter_captured \gset
SELECT * FROM public.statements_run();
SELECT o.kind, o.refund_of, o.hold_id = :quarter AS the_hold, o.membership_id
  FROM credits.operations AS o
 WHERE o.account_id = 1 AND o.operation_id IN (:quarter, :quarter_captured)
 ORDER BY o.operation_id;
ALTER TABLE credits.operations ALTER COLUMN refund_of DROP DEFAULT;
ALTER TABLE credits.operations ALTER COLUMN hold_id DROP DEFAULT;
ALTER TABLE credits.operations ALTER COLUMN membership_id DROP DEFAULT;
-- A default is evaluated only where the statement would evaluate it.  The
-- defaults below draw from a sequence and give null: they run for each row
-- whose statement leaves the column out, and not for a column it names.
-- A hold and its capture name the operation's links and the service of
-- the capture's ledger entry, directly (account 1) and by the statements
-- (account 2, the trigger forcing them); a grant names neither the links
-- of its operation nor the service of its ledger entry: two defaults run.
CREATE SEQUENCE public.defaults_run;
ALTER TABLE credits.operations ALTER COLUMN hold_id
    SET DEFAULT CASE WHEN nextval('public.defaults_run') < 0 THEN 0 END;
ALTER TABLE credits.ledger ALTER COLUMN service_id
    SET DEFAULT CASE WHEN nextval('public.defaults_run') < 0 THEN 0 END;
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT (credits.hold_credits(1, 0.25)).hold_id AS direct_hold \gset
SELECT (credits.capture_hold(1, :direct_hold)).balance_after > 0 AS captured;
SELECT * FROM public.statements_run();
SELECT last_value, is_called FROM public.defaults_run;
CREATE TRIGGER note_hold_row AFTER INSERT ON credits.holds
    FOR EACH ROW EXECUTE FUNCTION public.note_hold_row();
SELECT (credits.hold_credits(2, 0.25)).hold_id AS statement_hold \gset
SELECT (credits.capture_hold(2, :statement_hold)).balance_after > 0 AS captured;
DROP TRIGGER note_hold_row ON credits.holds;
SELECT * FROM public.statements_run();
SELECT last_value, is_called FROM public.defaults_run;
SELECT credits.grant_credits(1, 1, reference => 'defaults') > 0 AS granted;
SELECT last_value, is_called FROM public.defaults_run;
SELECT o.hold_id, l.service_id FROM credits.operations AS o
  JOIN credits.ledger AS l USING (account_id, operation_id)
 WHERE o.account_id = 1 AND o.reference = 'defaults';
ALTER TABLE credits.operations ALTER COLUMN hold_id DROP DEFAULT;
ALTER TABLE credits.ledger ALTER COLUMN service_id DROP DEFAULT;
DROP SEQUENCE public.defaults_run;
-- A capture writes the ledger entry before it lowers the running total,
-- in the order of the statement recording them: with both tables
-- refusing, the ledger is named, by the statements (the trigger forcing
-- them) and directly.  The hold stays open, and is captured once they
-- accept.
SELECT (credits.hold_credits(1, 0.5)).hold_id AS last \gset
ALTER TABLE credits.ledger ADD CONSTRAINT ledger_test CHECK (account_id <> 1) NOT VALID;
ALTER TABLE credits.account_totals ADD CONSTRAINT account_totals_test
    CHECK (account_id <> 1) NOT VALID;
CREATE TRIGGER note_hold_row AFTER INSERT ON credits.holds
    FOR EACH ROW EXECUTE FUNCTION public.note_hold_row();
\set VERBOSITY terse
SELECT credits.capture_hold(1, :last);
DROP TRIGGER note_hold_row ON credits.holds;
SELECT credits.capture_hold(1, :last);
ALTER TABLE credits.ledger DROP CONSTRAINT ledger_test;
SELECT credits.capture_hold(1, :last);
\set VERBOSITY default
ALTER TABLE credits.account_totals DROP CONSTRAINT account_totals_test;
SELECT status, captured FROM credits.holds WHERE account_id = 1 AND hold_id = :last;
SELECT (credits.capture_hold(1, :last)).amount;
SELECT * FROM public.indexes_checked();
SELECT * FROM credits.verify_ledger();

DROP VIEW public.books;
DROP FUNCTION public.indexes_checked();
DROP FUNCTION public.statements_run();
DROP PROCEDURE public.hold_the_same(bigint);
DROP FUNCTION public.note_hold_row();
DROP TABLE public.hold_rows_seen;
DROP EXTENSION pg_stat_statements;
DROP EXTENSION amcheck;
DROP EXTENSION credits;
