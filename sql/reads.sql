-- Reads: balance, can_redeem, the customer portal (account_batches) and
-- the history (account_history), paged newest first.
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

INSERT INTO credits.services VALUES (1, 'Premium Facial', true, 2, 'credit'),
                                    (2, 'Basic Facial', true, 1, 'credit');
INSERT INTO credits.packages (package_id, name, credits, price, currency, expires_after)
VALUES (1, '5-Session Wellness Package', 5, 90, 'MYR', '12 months');

-- an account that never received credits: nothing to spend, not an error
SELECT credits.balance(42), credits.can_redeem(42, 1);

SELECT credits.grant_package(1, 1, payment_ref => 'pi_1') AS batch_id;
SELECT credits.grant_credits(1, 3, expires_at => now() + interval '1 month',
                             source => 'subscription', reference => 'plan, May') AS batch_id;
SELECT credits.grant_credits(1, 2) AS batch_id;
SELECT credits.grant_credits(1, 4, expires_at => now() - interval '1 day',
                             valid_from => now() - interval '1 month') AS expired_batch;
SELECT (r).amount FROM credits.redeem_service(1, 1, reference => 'booking 1') AS r;
SELECT (r).amount FROM credits.redeem_service(1, 2, reference => 'booking 2') AS r;
SELECT credits.expire_batches();

-- open batches in consumption order, with package names; spent and expired
-- batches are not listed
SELECT batch_id, credit_type, source, package_id, package_name, amount, remaining, spendable_now
  FROM credits.account_batches(1);
SELECT credits.balance(1), credits.can_redeem(1, 1, 3) AS six_credits, credits.can_redeem(1, 1, 4) AS eight_credits;

-- history: newest first, with running total and source package
SELECT operation_id, entry_no, kind, batch_id, delta, balance_after, package_name, service_id, reference
  FROM credits.account_history(1);
-- paging: two entries at a time, then the entries before the last page's operation
SELECT operation_id, entry_no, kind FROM credits.account_history(1, 2);
SELECT operation_id, entry_no, kind FROM credits.account_history(1, 2, before_operation_id => 5);
SELECT operation_id, entry_no, kind FROM credits.account_history(1, 100, before_operation_id => 1);
-- nothing for an account without history
SELECT count(*) FROM credits.account_history(42);

-- both reads are served by indexes: the spendable batches through the
-- partial index in consumption order, the history through the ledger's key
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT b.batch_id FROM credits.batches AS b
 WHERE b.account_id = 1 AND b.credit_type = 'credit' AND b.is_open
   AND b.expires_at > now() AND b.valid_from <= now()
 ORDER BY b.expires_at, b.valid_from, b.batch_id;
EXPLAIN (COSTS OFF)
SELECT l.operation_id FROM credits.ledger AS l
 WHERE l.account_id = 1 ORDER BY l.operation_id DESC, l.entry_no DESC LIMIT 100;
RESET enable_seqscan;
RESET enable_bitmapscan;

DROP EXTENSION credits;
