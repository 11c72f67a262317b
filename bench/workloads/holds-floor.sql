-- holds: the bare row changes of a one-batch hold and its capture (floor
-- 20001..30000): hold, allocation and batch in one statement, then batch,
-- allocation, hold and ledger in another; no lock, no check
\set aid random(20001, 30000)
\set bid :floorbase + (:aid - 20001) * 5
WITH b AS (
    UPDATE credits.batches SET held = held + 1, is_open = remaining > held + 1
     WHERE account_id = :aid AND batch_id = :bid RETURNING account_id),
h AS (
    INSERT INTO credits.holds (account_id, hold_id, credit_type, amount, created_at)
    SELECT account_id, nextval('credits.operation_id_seq'), 'credit', 1, now() FROM b
    RETURNING hold_id)
INSERT INTO credits.hold_allocations (account_id, hold_id, batch_id, entry_no, amount, remaining)
SELECT :aid, hold_id, :bid, 1, 1, 1 FROM h
RETURNING hold_id AS hid \gset
WITH b AS (
    UPDATE credits.batches SET remaining = remaining - 1, held = held - 1
     WHERE account_id = :aid AND batch_id = :bid RETURNING account_id, batch_id, remaining),
a AS (
    UPDATE credits.hold_allocations SET remaining = 0 WHERE account_id = :aid AND hold_id = :hid),
h AS (
    UPDATE credits.holds SET status = 'captured', captured = 1, closed_at = now()
     WHERE account_id = :aid AND hold_id = :hid)
INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                            delta, balance_after, created_at)
SELECT account_id, nextval('credits.operation_id_seq'), 1, 'redeem', batch_id, 'credit', -1,
       remaining, now() FROM b;
