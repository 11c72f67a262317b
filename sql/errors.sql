-- Every error a caller can meet, with its SQLSTATE and message, and proof
-- that a failed call leaves the database as it was.
CREATE EXTENSION credits;
SET timezone = 'UTC';

-- try(statement): 'ok', or the SQLSTATE and message it failed with
CREATE FUNCTION pg_temp.try(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

INSERT INTO credits.credit_types VALUES ('minutes', 'Call minutes');
INSERT INTO credits.services VALUES (1, 'Premium Facial', true, 2, 'credit'),
                                    (2, 'Sauna', false, 1, 'credit'),
                                    (3, 'Coaching call', true, 30, 'minutes'),
                                    (4, 'Private island', true, 900000000000000, 'credit');
INSERT INTO credits.packages (package_id, name, credits, price, currency, expires_after, active)
VALUES (1, 'Wellness', 5, 90, 'MYR', '12 months', true),
       (2, 'Retired', 5, 90, 'MYR', '12 months', false),
       (3, 'Forever and more', 5, 90, 'MYR', '300000 years', true);
SELECT credits.grant_credits(1, 10) AS batch_id;
SELECT credits.grant_credits(2, 3, services => ARRAY[3], credit_type => 'minutes') AS batch_id;
INSERT INTO credits.accounts (account_id, is_member) VALUES (3, false);

CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM credits.operations) AS operations,
       (SELECT count(*) FROM credits.ledger) AS ledger_rows,
       (SELECT count(*) FROM credits.batches) AS batches,
       (SELECT count(*) FROM credits.accounts) AS accounts,
       (SELECT sum(remaining) FROM credits.batches) AS remaining,
       (SELECT sum(total) FROM credits.account_totals) AS totals;

SELECT statement, pg_temp.try(statement) AS outcome FROM (VALUES
    -- 22004: a required argument is NULL
    ($$SELECT credits.grant_package(NULL, 1)$$),
    ($$SELECT credits.grant_package(1, NULL)$$),
    ($$SELECT credits.grant_package(1, 1, granted_at => NULL)$$),
    ($$SELECT credits.grant_credits(1, NULL)$$),
    ($$SELECT credits.grant_credits(1, 1, expires_at => NULL)$$),
    ($$SELECT credits.grant_credits(1, 1, valid_from => NULL)$$),
    ($$SELECT credits.grant_credits(1, 1, credit_type => NULL)$$),
    ($$SELECT credits.grant_credits(1, 1, source => NULL)$$),
    ($$SELECT credits.grant_credits(1, 1, services => ARRAY[1, NULL])$$),
    ($$SELECT credits.redeem_credits(NULL, 1)$$),
    ($$SELECT credits.redeem_credits(1, 1, credit_type => NULL)$$),
    ($$SELECT credits.redeem_service(1, NULL)$$),
    ($$SELECT credits.redeem_service(1, 1, quantity => NULL)$$),
    ($$SELECT credits.expire_batches(NULL)$$),
    ($$SELECT credits.balance(NULL)$$),
    ($$SELECT credits.can_redeem(1, NULL)$$),
    ($$SELECT credits.schedule_expiry(NULL)$$),
    -- 22023: a value outside its domain
    ($$SELECT credits.redeem_credits(1, 0)$$),
    ($$SELECT credits.redeem_credits(1, -1)$$),
    ($$SELECT credits.redeem_credits(1, 'NaN')$$),
    ($$SELECT credits.grant_credits(1, -0.5)$$),
    ($$SELECT credits.redeem_service(1, 1, quantity => 0)$$),
    ($$SELECT credits.can_redeem(1, 1, -2)$$),
    ($$SELECT credits.expire_batches(0)$$),
    ($$SELECT credits.grant_credits(1, 1, expires_at => '2026-01-01', valid_from => '2026-01-01')$$),
    ($$SELECT credits.grant_credits(1, 1, expires_at => '-infinity')$$),
    ($$SELECT credits.grant_credits(1, 1, valid_from => 'infinity')$$),
    ($$SELECT credits.grant_credits(1, 1, source => 'gift')$$),
    ($$SELECT credits.grant_credits(1, 1, services => ARRAY[[1], [3]])$$),
    ($$SELECT credits.grant_package(1, 1, granted_at => '-infinity')$$),
    ($$SELECT credits.redeem_credits(1, 1, service_id => 3)$$),
    ($$SELECT credits.redeem_credits(2, 1, credit_type => 'minutes', service_id => 1)$$),
    -- 22003: beyond what the extension stores
    ($$SELECT credits.grant_credits(1, 1e15)$$),
    ($$SELECT credits.redeem_credits(1, 'Infinity')$$),
    ($$SELECT credits.redeem_service(1, 4, quantity => 2)$$),
    -- 22008: an expiry past the end of time
    ($$SELECT credits.grant_package(1, 3)$$),
    -- CR001 .. CR009 (CR007 and CR010 below)
    ($$SELECT credits.redeem_credits(1, 11)$$),
    ($$SELECT credits.redeem_credits(99, 1)$$),
    ($$SELECT credits.grant_package(1, 99)$$),
    ($$SELECT credits.grant_package(1, 2)$$),
    ($$SELECT credits.redeem_service(1, 99)$$),
    ($$SELECT credits.grant_credits(1, 1, services => ARRAY[1, 99])$$),
    ($$SELECT credits.balance(1, service_id => 99)$$),
    ($$SELECT credits.redeem_service(1, 2)$$),
    ($$SELECT credits.redeem_credits(1, 1, service_id => 2)$$),
    ($$SELECT credits.redeem_credits(1, 1, credit_type => 'tokens')$$),
    ($$SELECT credits.grant_credits(1, 1, credit_type => 'tokens')$$),
    ($$SELECT credits.balance(1, 'tokens')$$),
    ($$SELECT credits.redeem_credits(3, 1)$$),
    ($$SELECT credits.grant_credits(3, 1)$$),
    ($$SELECT credits.grant_package(3, 1)$$)
) AS t(statement);

-- CR007 and CR010 need a prepared account
SELECT credits.grant_credits(4, 2, services => ARRAY[1]) AS facial_only;
SELECT pg_temp.try($$SELECT credits.redeem_credits(4, 1, idempotency_key => 'k')$$) AS no_unrestricted_credits;
SELECT pg_temp.try($$SELECT credits.redeem_credits(4, 1, service_id => 1, idempotency_key => 'k')$$) AS first_use;
SELECT pg_temp.try($$SELECT credits.redeem_credits(4, 2, service_id => 1, idempotency_key => 'k')$$) AS reuse;
INSERT INTO credits.services VALUES (5, 'Yoga class', true, 1, 'credit');
SELECT pg_temp.try($$SELECT credits.redeem_service(4, 5)$$) AS not_covered;

-- hints and details, as psql shows them
\set VERBOSITY default
SELECT credits.grant_package(1, 2);
SELECT credits.redeem_credits(99, 1);
SELECT credits.redeem_service(1, 2);
SELECT credits.grant_credits(1, 1e15);
SELECT credits.expire_batches(-5);

-- nothing that failed wrote anything (the two calls that succeeded above
-- wrote one batch and one redemption, for account 4)
SELECT (SELECT count(*) FROM credits.operations) - operations AS new_operations,
       (SELECT count(*) FROM credits.ledger) - ledger_rows AS new_ledger_rows,
       (SELECT count(*) FROM credits.batches) - batches AS new_batches,
       (SELECT count(*) FROM credits.accounts) - accounts AS new_accounts,
       (SELECT sum(remaining) FROM credits.batches) - remaining AS remaining_change,
       (SELECT sum(total) FROM credits.account_totals) - totals AS totals_change
  FROM before;
SELECT * FROM credits.verify_ledger();

DROP TABLE before;
DROP EXTENSION credits;
