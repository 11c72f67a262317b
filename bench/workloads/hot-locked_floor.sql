-- hot: floor's bare row changes behind the account lock (locked_floor
-- 30004, batch :lockedbatch): the account row locked first, as
-- credits and plpgsql lock it before they read, then the batch updated
-- and the ledger row inserted, in one statement
WITH a AS MATERIALIZED (
    SELECT account_id FROM credits.accounts WHERE account_id = 30004 FOR UPDATE),
b AS (
    UPDATE credits.batches AS b SET remaining = b.remaining - 1 FROM a
     WHERE b.account_id = a.account_id AND b.batch_id = :lockedbatch
    RETURNING b.account_id, b.batch_id, b.remaining)
INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                            delta, balance_after, created_at)
SELECT account_id, nextval('credits.operation_id_seq'), 1, 'redeem', batch_id, 'credit', -1,
       remaining, now() FROM b;
