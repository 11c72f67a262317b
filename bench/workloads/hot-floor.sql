-- hot: the bare row changes on one account (floor 30003, batch :hotbatch)
WITH b AS (
    UPDATE credits.batches SET remaining = remaining - 1
     WHERE account_id = 30003 AND batch_id = :hotbatch
    RETURNING account_id, batch_id, remaining)
INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                            delta, balance_after, created_at)
SELECT account_id, nextval('credits.operation_id_seq'), 1, 'redeem', batch_id, 'credit', -1,
       remaining, now() FROM b;
