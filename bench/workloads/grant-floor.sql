-- grant: the bare row changes (floor 20001..30000): a batch and its ledger
-- row in one statement; no lock, no check, no running total, no sale
\set aid random(20001, 30000)
WITH b AS (
    INSERT INTO credits.batches (account_id, batch_id, credit_type, source, package_id, amount,
                                 remaining, is_open, valid_from, expires_at, operation_id, created_at)
    VALUES (:aid, nextval('credits.batch_id_seq'), 'credit', 'purchase', 1, 10, 10, true,
            now(), now() + interval '12 months', nextval('credits.operation_id_seq'), now())
    RETURNING account_id, batch_id, operation_id)
INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                            delta, balance_after, created_at)
SELECT account_id, operation_id, 1, 'grant', batch_id, 'credit', 10, 10, now() FROM b;
