-- uniform: the bare row changes of a one-batch redemption (floor
-- 20001..30000), one UPDATE of the earliest-expiring batch and one INSERT
-- into the ledger in one statement; no lock, no check, no running total.
-- :floorbase is the first batch id of account 20001 (bench/driver).
\set aid random(20001, 30000)
\set bid :floorbase + (:aid - 20001) * 5
WITH b AS (
    UPDATE credits.batches SET remaining = remaining - 1
     WHERE account_id = :aid AND batch_id = :bid
    RETURNING account_id, batch_id, remaining)
INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                            delta, balance_after, created_at)
SELECT account_id, nextval('credits.operation_id_seq'), 1, 'redeem', batch_id, 'credit', -1,
       remaining, now() FROM b;
