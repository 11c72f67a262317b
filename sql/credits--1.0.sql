/* sql/credits--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION credits" to load this file. \quit

/*
 * Layout
 *   Catalogue (global, edited by an administrator with SQL):
 *     credits.credit_types, credits.services, credits.packages, credits.accounts
 *   Per-account state (every key starts with account_id; written only by the
 *   C functions below, never by triggers):
 *     credits.batches, credits.account_totals, credits.operations,
 *     credits.ledger, credits.sales
 *
 * Every function that reads or writes per-account state is SECURITY DEFINER
 * with a fixed search_path, so that the application role needs EXECUTE on
 * the functions and no privilege on any per-account table.  The pg_cron
 * helpers (schedule_expiry, unschedule_expiry) run as their caller, so that
 * pg_cron's own privileges apply and the job runs as that role.  Nothing is
 * granted to PUBLIC; see doc/roles.sql.
 */

------------------------------------------------------------------------------
-- Types
------------------------------------------------------------------------------

CREATE TYPE credits.entry_kind AS ENUM ('grant', 'redeem', 'expire');
COMMENT ON TYPE credits.entry_kind IS
    'Kind of a ledger entry: grant adds a batch, redeem spends from it, expire zeroes what is left after expires_at';

CREATE TYPE credits.batch_source AS ENUM ('purchase', 'subscription', 'manual');
COMMENT ON TYPE credits.batch_source IS
    'Where a batch of credits came from: a package purchase, a subscription period, or a manual grant';

CREATE TYPE credits.operation_kind AS ENUM
    ('grant_package', 'grant_credits', 'redeem_credits', 'redeem_service', 'expire_batches');
COMMENT ON TYPE credits.operation_kind IS
    'The function that performed an operation';

CREATE TYPE credits.allocation AS (
    batch_id bigint,
    amount numeric,
    expires_at timestamptz
);
COMMENT ON TYPE credits.allocation IS
    'How much one redemption drew from one batch, and when that batch expires';

CREATE TYPE credits.redemption AS (
    operation_id bigint,
    amount numeric,
    balance_after numeric,
    allocations credits.allocation[]
);
COMMENT ON TYPE credits.redemption IS
    'Result of a redemption: its operation id, the amount spent, the account''s running total for the credit type afterwards, and the batches drawn in consumption order';

------------------------------------------------------------------------------
-- Catalogue
------------------------------------------------------------------------------

CREATE TABLE credits.credit_types (
    credit_type text PRIMARY KEY
        CHECK (credit_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    description text
);
COMMENT ON TABLE credits.credit_types IS
    'Named kinds of credit; a batch, package or service belongs to exactly one';
INSERT INTO credits.credit_types (credit_type, description)
    VALUES ('credit', 'General-purpose credits');

CREATE TABLE credits.services (
    service_id bigint PRIMARY KEY,
    name text NOT NULL CHECK (name <> ''),
    accepts_credits boolean NOT NULL DEFAULT true,
    credit_cost numeric NOT NULL CHECK (credit_cost > 0 AND credit_cost < 1e15),
    credit_type text NOT NULL DEFAULT 'credit'
        REFERENCES credits.credit_types (credit_type)
);
COMMENT ON TABLE credits.services IS
    'The application''s bookable things (appointment types, classes, rooms, events, calls), keyed by the application''s own id';

CREATE SEQUENCE credits.package_id_seq;
CREATE TABLE credits.packages (
    package_id bigint PRIMARY KEY DEFAULT pg_catalog.nextval('credits.package_id_seq'),
    name text NOT NULL CHECK (name <> ''),
    credit_type text NOT NULL DEFAULT 'credit'
        REFERENCES credits.credit_types (credit_type),
    credits numeric NOT NULL CHECK (credits > 0 AND credits < 1e15),
    price numeric NOT NULL CHECK (price >= 0 AND price < 1e15),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    country text CHECK (country ~ '^[A-Z]{2}$'),
    expires_after interval CHECK (expires_after > '0'::interval),
    permanent boolean NOT NULL DEFAULT false,
    service_ids bigint[] CHECK (pg_catalog.array_position(service_ids, NULL) IS NULL),
    listing_order integer NOT NULL DEFAULT 0,
    short_info text,
    active boolean NOT NULL DEFAULT true,
    CONSTRAINT packages_permanent_has_no_expiry
        CHECK (NOT (permanent AND expires_after IS NOT NULL))
);
ALTER SEQUENCE credits.package_id_seq OWNED BY credits.packages.package_id;
COMMENT ON TABLE credits.packages IS
    'Credit packages for sale: credits granted on purchase, price, currency (ISO 4217), expiry (NULL expires_after means credits.default_expiry), applicable services (NULL or empty means every credit-enabled service)';

CREATE TABLE credits.accounts (
    account_id bigint PRIMARY KEY,
    is_member boolean NOT NULL DEFAULT true,
    timezone text NOT NULL DEFAULT 'UTC'
        CHECK (pg_catalog.timezone(timezone, '2000-01-01 00:00:00+00'::timestamptz) IS NOT NULL),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE credits.accounts IS
    'Customers by the application''s id; a grant creates a missing one. Its row is the lock that serializes every change to the account. Non-members keep their batches but can neither receive nor spend credits';

------------------------------------------------------------------------------
-- Per-account state
------------------------------------------------------------------------------

CREATE SEQUENCE credits.batch_id_seq;
CREATE TABLE credits.batches (
    account_id bigint NOT NULL,
    batch_id bigint NOT NULL DEFAULT pg_catalog.nextval('credits.batch_id_seq'),
    credit_type text NOT NULL,
    source credits.batch_source NOT NULL,
    package_id bigint,
    amount numeric NOT NULL CHECK (amount > 0),
    remaining numeric NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    -- kept apart from remaining so that a partial spend changes no indexed column
    is_open boolean NOT NULL,
    valid_from timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    service_ids bigint[],
    reference text,
    operation_id bigint NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, batch_id),
    CONSTRAINT batches_open_while_spendable CHECK (is_open = (remaining > 0)),
    CONSTRAINT batches_valid_window CHECK (expires_at > valid_from)
) WITH (fillfactor = 80);
ALTER SEQUENCE credits.batch_id_seq OWNED BY credits.batches.batch_id;
COMMENT ON TABLE credits.batches IS
    'One row per grant: amount granted, remaining, validity window, applicable services copied at grant time';

-- Redemption walks this index in consumption order; spent and expired
-- batches leave it, so its cost follows the open batches, not the history.
CREATE INDEX batches_spendable_idx ON credits.batches
    (account_id, credit_type, expires_at, valid_from, batch_id) WHERE is_open;
-- expire_batches finds due batches through this one.
CREATE INDEX batches_due_idx ON credits.batches (expires_at)
    WHERE is_open AND expires_at < 'infinity';

CREATE TABLE credits.account_totals (
    account_id bigint NOT NULL,
    credit_type text NOT NULL,
    total numeric NOT NULL CHECK (total >= 0),
    PRIMARY KEY (account_id, credit_type)
);
COMMENT ON TABLE credits.account_totals IS
    'Running total of remaining credits per account and credit type: the balance_after of the latest ledger entry';

CREATE SEQUENCE credits.operation_id_seq;
CREATE TABLE credits.operations (
    account_id bigint NOT NULL,
    operation_id bigint NOT NULL,
    kind credits.operation_kind NOT NULL,
    idempotency_key text,
    request text NOT NULL,
    amount numeric NOT NULL,
    credit_type text,
    service_id bigint,
    package_id bigint,
    reference text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, operation_id)
);
CREATE UNIQUE INDEX operations_idempotency_key_idx ON credits.operations
    (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
COMMENT ON TABLE credits.operations IS
    'One row per call that changed an account: what was asked (request), its idempotency key, when';

CREATE TABLE credits.ledger (
    account_id bigint NOT NULL,
    operation_id bigint NOT NULL,
    entry_no integer NOT NULL,
    kind credits.entry_kind NOT NULL,
    batch_id bigint NOT NULL,
    credit_type text NOT NULL,
    delta numeric NOT NULL CHECK (delta <> 0),
    balance_after numeric NOT NULL CHECK (balance_after >= 0),
    service_id bigint,
    reference text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, operation_id, entry_no)
);
COMMENT ON TABLE credits.ledger IS
    'Append-only: one row per batch per change. For every batch the sum of its deltas equals its remaining; balance_after is the account''s running total for the credit type';

CREATE TABLE credits.sales (
    account_id bigint NOT NULL,
    operation_id bigint NOT NULL,
    package_id bigint NOT NULL,
    batch_id bigint NOT NULL,
    credits numeric NOT NULL,
    price numeric NOT NULL,
    currency text NOT NULL,
    country text,
    payment_ref text,
    sold_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, operation_id)
);
COMMENT ON TABLE credits.sales IS
    'One row per package grant, with the price, currency and country at the time of sale';

-- pg_dump must carry user data; the seeded credit type comes back with CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('credits.credit_types', $$WHERE credit_type <> 'credit'$$);
SELECT pg_catalog.pg_extension_config_dump('credits.services', '');
SELECT pg_catalog.pg_extension_config_dump('credits.packages', '');
SELECT pg_catalog.pg_extension_config_dump('credits.package_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('credits.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('credits.batches', '');
SELECT pg_catalog.pg_extension_config_dump('credits.batch_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('credits.account_totals', '');
SELECT pg_catalog.pg_extension_config_dump('credits.operations', '');
SELECT pg_catalog.pg_extension_config_dump('credits.operation_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('credits.ledger', '');
SELECT pg_catalog.pg_extension_config_dump('credits.sales', '');

------------------------------------------------------------------------------
-- Write paths (C)
------------------------------------------------------------------------------

CREATE FUNCTION credits.grant_package(
    account_id bigint,
    package_id bigint,
    idempotency_key text DEFAULT NULL,
    payment_ref text DEFAULT NULL,
    granted_at timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
AS 'MODULE_PATHNAME', 'credits_grant_package'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.grant_package(bigint, bigint, text, text, timestamptz) IS
    'Sells a package to an account: one batch expiring granted_at + expires_after in the account''s time zone, a ledger entry and a sale record. Returns the batch id';

CREATE FUNCTION credits.grant_credits(
    account_id bigint,
    amount numeric,
    expires_at timestamptz DEFAULT 'infinity',
    valid_from timestamptz DEFAULT pg_catalog.now(),
    credit_type text DEFAULT 'credit',
    services bigint[] DEFAULT NULL,
    source text DEFAULT 'manual',
    reference text DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'credits_grant_credits'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.grant_credits(bigint, numeric, timestamptz, timestamptz, text, bigint[], text, text, text) IS
    'Grants a batch of credits (manual, subscription period, purchase) spendable from valid_from until expires_at. Returns the batch id';

CREATE FUNCTION credits.redeem_credits(
    account_id bigint,
    amount numeric,
    credit_type text DEFAULT 'credit',
    service_id bigint DEFAULT NULL,
    reference text DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.redemption
AS 'MODULE_PATHNAME', 'credits_redeem_credits'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.redeem_credits(bigint, numeric, text, bigint, text, text) IS
    'Spends amount credits earliest-expiry-first, all or nothing, from batches applicable to service_id if given';

CREATE FUNCTION credits.redeem_service(
    account_id bigint,
    service_id bigint,
    quantity integer DEFAULT 1,
    reference text DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.redemption
AS 'MODULE_PATHNAME', 'credits_redeem_service'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.redeem_service(bigint, bigint, integer, text, text) IS
    'Spends the service''s credit_cost times quantity, of the service''s credit type, from batches applicable to the service';

CREATE FUNCTION credits.expire_batches(max_batches integer DEFAULT 10000)
RETURNS bigint
AS 'MODULE_PATHNAME', 'credits_expire_batches'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.expire_batches(integer) IS
    'Zeroes up to max_batches batches past expires_at, one expire ledger entry each, skipping accounts another transaction holds. Returns how many it expired';

------------------------------------------------------------------------------
-- Reads
------------------------------------------------------------------------------

CREATE FUNCTION credits.balance(
    account_id bigint,
    credit_type text DEFAULT 'credit',
    service_id bigint DEFAULT NULL)
RETURNS numeric
AS 'MODULE_PATHNAME', 'credits_balance'
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.balance(bigint, text, bigint) IS
    'Credits the account can spend now (for service_id, if given); 0 for a non-member or an account that never received credits';

CREATE FUNCTION credits.can_redeem(
    account_id bigint,
    service_id bigint,
    quantity integer DEFAULT 1)
RETURNS boolean
AS 'MODULE_PATHNAME', 'credits_can_redeem'
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.can_redeem(bigint, bigint, integer) IS
    'Whether checkout may offer "pay with credits": the service accepts credits and the account can spend its cost times quantity now';

CREATE FUNCTION credits.account_batches(account_id bigint)
RETURNS TABLE (
    batch_id bigint,
    credit_type text,
    source credits.batch_source,
    package_id bigint,
    package_name text,
    amount numeric,
    remaining numeric,
    valid_from timestamptz,
    expires_at timestamptz,
    service_ids bigint[],
    spendable_now boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT b.batch_id, b.credit_type, b.source, b.package_id, p.name,
           b.amount, b.remaining, b.valid_from, b.expires_at, b.service_ids,
           b.valid_from <= pg_catalog.clock_timestamp() AND a.is_member
      FROM credits.batches AS b
      JOIN credits.accounts AS a ON a.account_id = b.account_id
      LEFT JOIN credits.packages AS p ON p.package_id = b.package_id
     WHERE b.account_id = $1
       AND b.is_open
       AND b.expires_at > pg_catalog.clock_timestamp()
     ORDER BY b.credit_type, b.expires_at, b.valid_from, b.batch_id
$$;
COMMENT ON FUNCTION credits.account_batches(bigint) IS
    'The account''s unexpired batches with credits left, in consumption order, with package name and whether each can be spent now (the customer portal)';

CREATE FUNCTION credits.account_history(
    account_id bigint,
    max_entries integer DEFAULT 100,
    before_operation_id bigint DEFAULT NULL)
RETURNS TABLE (
    operation_id bigint,
    entry_no integer,
    created_at timestamptz,
    kind credits.entry_kind,
    credit_type text,
    batch_id bigint,
    delta numeric,
    balance_after numeric,
    package_id bigint,
    package_name text,
    service_id bigint,
    reference text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.operation_id, l.entry_no, l.created_at, l.kind, l.credit_type,
           l.batch_id, l.delta, l.balance_after, b.package_id, p.name,
           l.service_id, l.reference
      FROM credits.ledger AS l
      JOIN credits.batches AS b ON b.account_id = l.account_id AND b.batch_id = l.batch_id
      LEFT JOIN credits.packages AS p ON p.package_id = b.package_id
     WHERE l.account_id = $1
       AND ($3 IS NULL OR l.operation_id < $3)
     ORDER BY l.operation_id DESC, l.entry_no DESC
     LIMIT $2
$$;
COMMENT ON FUNCTION credits.account_history(bigint, integer, bigint) IS
    'The account''s ledger, newest first, with delta, running balance and source package; page with before_operation_id';

CREATE TYPE credits.ledger_problem AS (
    account_id bigint,
    credit_type text,
    batch_id bigint,
    problem text
);
COMMENT ON TYPE credits.ledger_problem IS
    'One inconsistency found by credits.verify_ledger';

CREATE FUNCTION credits.verify_ledger(account_id bigint DEFAULT NULL)
RETURNS SETOF credits.ledger_problem
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- a batch whose deltas do not add up to what it has left
    SELECT b.account_id, b.credit_type, b.batch_id,
           pg_catalog.format('remaining %s but ledger deltas sum to %s', b.remaining, pg_catalog.sum(l.delta))
      FROM credits.batches AS b
      LEFT JOIN credits.ledger AS l ON l.account_id = b.account_id AND l.batch_id = b.batch_id
     WHERE $1 IS NULL OR b.account_id = $1
     GROUP BY b.account_id, b.credit_type, b.batch_id, b.remaining
    HAVING pg_catalog.sum(l.delta) IS DISTINCT FROM b.remaining
    UNION ALL
    -- a running total that does not match the batches
    SELECT t.account_id, t.credit_type, NULL::bigint,
           pg_catalog.format('total %s but batches hold %s', t.total, s.held)
      FROM credits.account_totals AS t
      FULL JOIN (SELECT b.account_id, b.credit_type, pg_catalog.sum(b.remaining) AS held
                   FROM credits.batches AS b
                  WHERE $1 IS NULL OR b.account_id = $1
                  GROUP BY b.account_id, b.credit_type) AS s
             ON s.account_id = t.account_id AND s.credit_type = t.credit_type
     WHERE ($1 IS NULL OR COALESCE(t.account_id, s.account_id) = $1)
       AND t.total IS DISTINCT FROM s.held
    UNION ALL
    -- a ledger entry whose balance_after is not the running sum of deltas
    SELECT r.account_id, r.credit_type, r.batch_id,
           pg_catalog.format('operation %s entry %s: balance_after %s but running sum is %s',
                             r.operation_id, r.entry_no, r.balance_after, r.running)
      FROM (SELECT l.*, pg_catalog.sum(l.delta) OVER (PARTITION BY l.account_id, l.credit_type
                                                     ORDER BY l.operation_id, l.entry_no) AS running
              FROM credits.ledger AS l
             WHERE $1 IS NULL OR l.account_id = $1) AS r
     WHERE r.running <> r.balance_after
    UNION ALL
    -- a ledger entry without its operation
    SELECT l.account_id, l.credit_type, l.batch_id,
           pg_catalog.format('operation %s has no operations row', l.operation_id)
      FROM credits.ledger AS l
     WHERE ($1 IS NULL OR l.account_id = $1)
       AND NOT EXISTS (SELECT 1 FROM credits.operations AS o
                        WHERE o.account_id = l.account_id AND o.operation_id = l.operation_id)
$$;
COMMENT ON FUNCTION credits.verify_ledger(bigint) IS
    'Lists every place where the ledger does not reconcile with batches and running totals; no rows means consistent';

------------------------------------------------------------------------------
-- Scheduling with pg_cron (optional)
------------------------------------------------------------------------------

-- A procedure, so that each batch of expiries commits on its own and no
-- account stays locked for the whole run.  It cannot carry SET search_path
-- (a procedure with SET cannot COMMIT), so every name in it is qualified.
CREATE PROCEDURE credits.run_expiry(batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    expired bigint;
BEGIN
    LOOP
        expired := credits.expire_batches(batch_size);
        COMMIT;
        EXIT WHEN expired OPERATOR(pg_catalog.=) 0;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE credits.run_expiry(integer) IS
    'Calls expire_batches until it finds nothing to expire, committing after each batch; what pg_cron runs';

CREATE FUNCTION credits.schedule_expiry(schedule text DEFAULT '*/5 * * * *')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'schedule must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'CR011',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, restart, and run CREATE EXTENSION pg_cron; or call CALL credits.run_expiry() from another scheduler.';
    END IF;
    RETURN cron.schedule('credits-expiry', schedule, 'CALL credits.run_expiry()');
END
$$;
COMMENT ON FUNCTION credits.schedule_expiry(text) IS
    'Registers (or reschedules) the pg_cron job "credits-expiry" that runs CALL credits.run_expiry(); returns the job id';

CREATE FUNCTION credits.unschedule_expiry()
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'CR011',
                  HINT = 'Nothing can be scheduled without pg_cron, so there is nothing to remove.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM cron.job WHERE jobname OPERATOR(pg_catalog.=) 'credits-expiry') THEN
        RETURN false;
    END IF;
    RETURN cron.unschedule('credits-expiry');
END
$$;
COMMENT ON FUNCTION credits.unschedule_expiry() IS
    'Removes the pg_cron job "credits-expiry"; returns false if there was none';

------------------------------------------------------------------------------
-- Privileges: nothing for PUBLIC.  The owner (the superuser who ran CREATE
-- EXTENSION) grants to the application, administrator and read-only roles;
-- doc/roles.sql is the documented setup.
------------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA credits FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA credits FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA credits FROM PUBLIC;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA credits FROM PUBLIC;
REVOKE ALL ON SCHEMA credits FROM PUBLIC;
REVOKE ALL ON TYPE credits.entry_kind, credits.batch_source, credits.operation_kind,
    credits.allocation, credits.redemption, credits.ledger_problem FROM PUBLIC;
