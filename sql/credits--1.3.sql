/* sql/credits--1.3.sql */

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

CREATE TYPE credits.entry_kind AS ENUM ('grant', 'redeem', 'expire', 'refund', 'void');
COMMENT ON TYPE credits.entry_kind IS
    'Kind of a ledger entry: grant adds a batch, redeem spends from it (also a capture), expire zeroes what is left after expires_at, refund gives redeemed credits back, void takes them away (chargeback)';

CREATE TYPE credits.batch_source AS ENUM ('purchase', 'subscription', 'manual', 'refund');
COMMENT ON TYPE credits.batch_source IS
    'Where a batch of credits came from: a package purchase, a subscription period, or a manual grant';

CREATE TYPE credits.operation_kind AS ENUM
    ('grant_package', 'grant_credits', 'redeem_credits', 'redeem_service', 'expire_batches',
     'hold_credits', 'hold_service', 'capture_hold', 'release_hold', 'release_expired_holds',
     'refund_redemption', 'refund_as_credits', 'void_batch', 'cancel_booking', 'end_membership');
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
    allocations credits.allocation[],
    membership_id bigint
);
COMMENT ON TYPE credits.redemption IS
    'Result of a redemption or capture: its operation id, the credits spent, the account''s running total for the credit type afterwards, the batches drawn in consumption order, and the membership that paid instead (NULL when credits paid)';

CREATE TYPE credits.refund AS (
    operation_id bigint,
    amount numeric,
    balance_after numeric,
    allocations credits.allocation[]
);
COMMENT ON TYPE credits.refund IS
    'Result of a refund: its operation id, the credits returned, the running total afterwards, and the batches credited (expire-last first)';

CREATE TYPE credits.hold AS (
    hold_id bigint,
    amount numeric,
    hold_until timestamptz,
    allocations credits.allocation[],
    membership_id bigint
);
COMMENT ON TYPE credits.hold IS
    'Result of a hold: its id, the credits held, until when, the batches they are held from, and the membership that will pay instead (NULL when credits are held)';

CREATE TYPE credits.hold_status AS ENUM ('open', 'captured', 'released');
COMMENT ON TYPE credits.hold_status IS
    'open holds keep their credits; captured ones spent (some of) them; released ones gave them back';

CREATE TYPE credits.cancellation_rule AS ENUM ('full_refund', 'late_cancellation', 'no_show');
COMMENT ON TYPE credits.cancellation_rule IS
    'Which rule of a service''s cancellation policy applied: in time, late (a share back), or at or after the start (nothing back)';

CREATE TYPE credits.cancellation AS (
    operation_id bigint,
    rule credits.cancellation_rule,
    returned numeric,
    kept numeric
);
COMMENT ON TYPE credits.cancellation IS
    'Result of cancel_booking: its operation id, the rule applied, the credits given back (released or refunded) and those kept (captured or not refunded)';


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
        REFERENCES credits.credit_types (credit_type),
    cancel_window interval NOT NULL DEFAULT '0'
        CONSTRAINT services_cancel_window_check CHECK (cancel_window >= '0'::interval),
    late_cancel_share numeric NOT NULL DEFAULT 0
        CONSTRAINT services_late_cancel_share_check
        CHECK (late_cancel_share >= 0 AND late_cancel_share <= 1)
);
COMMENT ON TABLE credits.services IS
    'The application''s bookable things (appointment types, classes, rooms, events, calls), keyed by the application''s own id';
COMMENT ON COLUMN credits.services.cancel_window IS
    'A cancellation at least this long before the booked start gets everything back';
COMMENT ON COLUMN credits.services.late_cancel_share IS
    'Share (0 to 1) given back for a later cancellation before the start; nothing at or after the start';

CREATE SEQUENCE credits.package_id_seq;
CREATE TABLE credits.packages (
    package_id bigint PRIMARY KEY DEFAULT pg_catalog.nextval('credits.package_id_seq'),
    name text NOT NULL CHECK (name <> ''),
    credit_type text NOT NULL DEFAULT 'credit'
        REFERENCES credits.credit_types (credit_type),
    credits numeric CHECK (credits > 0 AND credits < 1e15),
    price numeric NOT NULL CHECK (price >= 0 AND price < 1e15),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    country text CHECK (country ~ '^[A-Z]{2}$'),
    expires_after interval CHECK (expires_after > '0'::interval),
    permanent boolean NOT NULL DEFAULT false,
    service_ids bigint[] CHECK (pg_catalog.array_position(service_ids, NULL) IS NULL),
    listing_order integer NOT NULL DEFAULT 0,
    short_info text,
    active boolean NOT NULL DEFAULT true,
    membership_period interval
        CONSTRAINT packages_membership_period_check CHECK (membership_period > '0'::interval),
    CONSTRAINT packages_permanent_has_no_expiry
        CHECK (NOT (permanent AND expires_after IS NOT NULL)),
    CONSTRAINT packages_credits_or_membership
        CHECK ((credits IS NULL) = (membership_period IS NOT NULL)),
    CONSTRAINT packages_membership_has_no_expiry
        CHECK (membership_period IS NULL OR (expires_after IS NULL AND NOT permanent))
);
ALTER SEQUENCE credits.package_id_seq OWNED BY credits.packages.package_id;
COMMENT ON COLUMN credits.packages.membership_period IS
    'Set for a membership package: the period of access to its services it sells, instead of credits';
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
    -- kept apart from remaining so that a partial spend changes no indexed column;
    -- true while the batch has credits no hold keeps (remaining > held)
    is_open boolean NOT NULL,
    valid_from timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    service_ids bigint[],
    reference text,
    operation_id bigint NOT NULL,
    created_at timestamptz NOT NULL,
    held numeric NOT NULL DEFAULT 0,
    voided_at timestamptz,
    PRIMARY KEY (account_id, batch_id),
    CONSTRAINT batches_valid_window CHECK (expires_at > valid_from),
    CONSTRAINT batches_open_while_spendable CHECK (is_open = (remaining > held)),
    CONSTRAINT batches_held_within_remaining CHECK (held >= 0 AND held <= remaining)
) WITH (fillfactor = 80);
ALTER SEQUENCE credits.batch_id_seq OWNED BY credits.batches.batch_id;
COMMENT ON TABLE credits.batches IS
    'One row per grant: amount granted, remaining, validity window, applicable services copied at grant time';
COMMENT ON COLUMN credits.batches.held IS
    'Credits of the batch that open holds keep; what can be spent is remaining - held';

-- Redemption walks this index in consumption order; spent and expired
-- batches leave it, so its cost follows the open batches, not the history.
CREATE INDEX batches_spendable_idx ON credits.batches
    (account_id, credit_type, expires_at, valid_from, batch_id) WHERE is_open;
-- expire_batches finds due batches through this one.
CREATE INDEX batches_due_idx ON credits.batches (expires_at)
    WHERE is_open AND expires_at < 'infinity';
-- the customer portal lists batches whose credits are all held, too
CREATE INDEX batches_held_idx ON credits.batches (account_id) WHERE held > 0;

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
    refund_of bigint,
    hold_id bigint,
    membership_id bigint,
    balance_after numeric,
    PRIMARY KEY (account_id, operation_id)
);
CREATE UNIQUE INDEX operations_idempotency_key_idx ON credits.operations
    (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
COMMENT ON TABLE credits.operations IS
    'One row per call that changed an account: what was asked (request), its idempotency key, when';
COMMENT ON COLUMN credits.operations.refund_of IS
    'For a refund or a cancellation of a redemption: the redemption';
-- refunds of one redemption, found without reading the account's history
CREATE INDEX operations_refund_of_idx ON credits.operations (account_id, refund_of)
    WHERE refund_of IS NOT NULL;

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
    batch_id bigint,
    credits numeric,
    price numeric NOT NULL,
    currency text NOT NULL,
    country text,
    payment_ref text,
    sold_at timestamptz NOT NULL,
    membership_id bigint,
    PRIMARY KEY (account_id, operation_id),
    CONSTRAINT sales_batch_or_membership CHECK ((batch_id IS NULL) <> (membership_id IS NULL))
);
COMMENT ON TABLE credits.sales IS
    'One row per package grant, with the price, currency and country at the time of sale';

CREATE TABLE credits.holds (
    account_id bigint NOT NULL,
    hold_id bigint NOT NULL,
    credit_type text NOT NULL,
    service_id bigint,
    quantity integer,
    amount numeric NOT NULL CHECK (amount >= 0),
    captured numeric NOT NULL DEFAULT 0 CHECK (captured >= 0),
    released numeric NOT NULL DEFAULT 0 CHECK (released >= 0),
    status credits.hold_status NOT NULL DEFAULT 'open',
    hold_until timestamptz,
    membership_id bigint,
    reference text,
    created_at timestamptz NOT NULL,
    closed_at timestamptz,
    closed_by bigint,
    PRIMARY KEY (account_id, hold_id),
    CONSTRAINT holds_accounted CHECK (captured + released <= amount),
    CONSTRAINT holds_closed_when_not_open CHECK ((status = 'open') = (closed_at IS NULL))
);
COMMENT ON TABLE credits.holds IS
    'Credits reserved for a booking (or a membership that will pay): hold_id is the id of the operation that placed it';
-- release_expired_holds finds overdue holds through this one
CREATE INDEX holds_due_idx ON credits.holds (hold_until)
    WHERE status = 'open' AND hold_until IS NOT NULL;

CREATE TABLE credits.hold_allocations (
    account_id bigint NOT NULL,
    hold_id bigint NOT NULL,
    batch_id bigint NOT NULL,
    entry_no integer NOT NULL,
    amount numeric NOT NULL CHECK (amount > 0),
    remaining numeric NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    PRIMARY KEY (account_id, hold_id, batch_id)
);
COMMENT ON TABLE credits.hold_allocations IS
    'What a hold took from each batch (amount) and still keeps (remaining); a batch''s held is the sum of its remaining';

CREATE TABLE credits.memberships (
    account_id bigint NOT NULL,
    membership_id bigint NOT NULL,
    package_id bigint NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    ended_at timestamptz,
    service_ids bigint[],
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, membership_id),
    CONSTRAINT memberships_period CHECK (ends_at > starts_at),
    CONSTRAINT memberships_ended_within CHECK (ended_at IS NULL OR (ended_at >= starts_at AND ended_at < ends_at))
);
COMMENT ON TABLE credits.memberships IS
    'Periods of access to a package''s services (NULL service_ids: every service), without consumption; membership_id is the id of the grant_package operation';
CREATE INDEX memberships_by_package_idx ON credits.memberships (account_id, package_id, ends_at);

CREATE TABLE credits.membership_visits (
    account_id bigint NOT NULL,
    operation_id bigint NOT NULL,
    membership_id bigint NOT NULL,
    service_id bigint NOT NULL,
    quantity integer NOT NULL,
    reference text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, operation_id)
);
COMMENT ON TABLE credits.membership_visits IS
    'Bookings a membership paid for, one per redemption or capture that used it';

CREATE TABLE credits.cancellations (
    account_id bigint NOT NULL,
    operation_id bigint NOT NULL,
    booking_id bigint NOT NULL,
    booked_with text NOT NULL CHECK (booked_with IN ('hold', 'redemption')),
    service_id bigint,
    starts_at timestamptz NOT NULL,
    cancelled_at timestamptz NOT NULL,
    rule credits.cancellation_rule NOT NULL,
    returned numeric NOT NULL,
    kept numeric NOT NULL,
    PRIMARY KEY (account_id, operation_id),
    CONSTRAINT cancellations_once UNIQUE (account_id, booking_id)
);
COMMENT ON TABLE credits.cancellations IS
    'Cancelled bookings: which hold or redemption, when it was to start, when it was cancelled, the rule that applied and what went back';

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
SELECT pg_catalog.pg_extension_config_dump('credits.holds', '');
SELECT pg_catalog.pg_extension_config_dump('credits.hold_allocations', '');
SELECT pg_catalog.pg_extension_config_dump('credits.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('credits.membership_visits', '');
SELECT pg_catalog.pg_extension_config_dump('credits.cancellations', '');

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
-- Holds
------------------------------------------------------------------------------

CREATE FUNCTION credits.hold_credits(
    account_id bigint,
    amount numeric,
    credit_type text DEFAULT 'credit',
    service_id bigint DEFAULT NULL,
    hold_until timestamptz DEFAULT NULL,
    reference text DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.hold
AS 'MODULE_PATHNAME', 'credits_hold_credits'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.hold_credits(bigint, numeric, text, bigint, timestamptz, text, text) IS
    'Reserves amount credits earliest-expiry-first, all or nothing, for later capture or release; released by release_expired_holds after hold_until';

CREATE FUNCTION credits.hold_service(
    account_id bigint,
    service_id bigint,
    quantity integer DEFAULT 1,
    hold_until timestamptz DEFAULT NULL,
    reference text DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.hold
AS 'MODULE_PATHNAME', 'credits_hold_service'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.hold_service(bigint, bigint, integer, timestamptz, text, text) IS
    'Reserves a booking of the service: held by an active membership that covers it (no credits), else credit_cost times quantity of credits';

CREATE FUNCTION credits.capture_hold(
    account_id bigint,
    hold_id bigint,
    amount numeric DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.redemption
AS 'MODULE_PATHNAME', 'credits_capture_hold'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.capture_hold(bigint, bigint, numeric, text) IS
    'Spends the hold''s credits (all, or amount of them) as a redemption; the rest goes back';

CREATE FUNCTION credits.release_hold(account_id bigint, hold_id bigint)
RETURNS numeric
AS 'MODULE_PATHNAME', 'credits_release_hold'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.release_hold(bigint, bigint) IS
    'Gives the hold''s credits back (those of batches expired or voided meanwhile leave at once); returns how many it held';

CREATE FUNCTION credits.release_expired_holds(max_holds integer DEFAULT 10000)
RETURNS bigint
AS 'MODULE_PATHNAME', 'credits_release_expired_holds'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.release_expired_holds(integer) IS
    'Releases up to max_holds open holds past hold_until, skipping accounts another transaction holds; returns how many it released';

------------------------------------------------------------------------------
-- Refunds, cancellations, voids
------------------------------------------------------------------------------

CREATE FUNCTION credits.refund_redemption(
    account_id bigint,
    operation_id bigint,
    amount numeric DEFAULT NULL,
    reason text DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.refund
AS 'MODULE_PATHNAME', 'credits_refund_redemption'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.refund_redemption(bigint, bigint, numeric, text, text) IS
    'Returns a redemption''s credits (all that is left of it, or amount) to the batches it drew from, the batch that expires last first; never more than was redeemed';

CREATE FUNCTION credits.cancel_booking(
    account_id bigint,
    operation_or_hold_id bigint,
    starts_at timestamptz,
    cancelled_at timestamptz DEFAULT pg_catalog.now())
RETURNS credits.cancellation
AS 'MODULE_PATHNAME', 'credits_cancel_booking'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.cancel_booking(bigint, bigint, timestamptz, timestamptz) IS
    'Applies the service''s cancellation policy to a booking paid by a hold (release or partial capture) or a redemption (full or partial refund), and records the rule applied';

CREATE FUNCTION credits.refund_as_credits(
    account_id bigint,
    amount numeric,
    reason text,
    credit_type text DEFAULT 'credit',
    idempotency_key text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'credits_refund_as_credits'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.refund_as_credits(bigint, numeric, text, text, text) IS
    'Credits instead of a money refund: a permanent batch with source refund and the reason as its reference; returns the batch id';

CREATE FUNCTION credits.void_batch(account_id bigint, batch_id bigint, reason text)
RETURNS numeric
AS 'MODULE_PATHNAME', 'credits_void_batch'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.void_batch(bigint, bigint, text) IS
    'Zeroes what is left of a batch (a chargeback) with a void entry; credits held from it stay held and are voided when released; returns the credits voided';

------------------------------------------------------------------------------
-- Memberships
------------------------------------------------------------------------------

CREATE FUNCTION credits.has_access(
    account_id bigint,
    service_id bigint,
    at timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
AS 'MODULE_PATHNAME', 'credits_has_access'
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.has_access(bigint, bigint, timestamptz) IS
    'Whether a membership of the account covers the service at that moment (and the account is a member)';

CREATE FUNCTION credits.end_membership(
    account_id bigint,
    membership_id bigint,
    ended_at timestamptz DEFAULT pg_catalog.now())
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'credits_end_membership'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION credits.end_membership(bigint, bigint, timestamptz) IS
    'Ends a membership early (one not started yet never starts); returns when it ends';

CREATE FUNCTION credits.account_memberships(account_id bigint)
RETURNS TABLE (
    membership_id bigint,
    package_id bigint,
    package_name text,
    starts_at timestamptz,
    ends_at timestamptz,
    ended_at timestamptz,
    service_ids bigint[],
    active_now boolean,
    visits bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.membership_id, m.package_id, p.name, m.starts_at, m.ends_at, m.ended_at,
           m.service_ids,
           m.starts_at <= pg_catalog.clock_timestamp()
           AND COALESCE(m.ended_at, m.ends_at) > pg_catalog.clock_timestamp(),
           (SELECT pg_catalog.count(*) FROM credits.membership_visits AS v
             WHERE v.account_id = m.account_id AND v.membership_id = m.membership_id)
      FROM credits.memberships AS m
      LEFT JOIN credits.packages AS p ON p.package_id = m.package_id
     WHERE m.account_id = $1
     ORDER BY m.starts_at, m.membership_id
$$;
COMMENT ON FUNCTION credits.account_memberships(bigint) IS
    'The account''s memberships with their periods, whether each is active now, and its visits';

CREATE FUNCTION credits.account_holds(account_id bigint)
RETURNS TABLE (
    hold_id bigint,
    status credits.hold_status,
    credit_type text,
    service_id bigint,
    amount numeric,
    captured numeric,
    released numeric,
    hold_until timestamptz,
    membership_id bigint,
    reference text,
    created_at timestamptz,
    closed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.hold_id, h.status, h.credit_type, h.service_id, h.amount, h.captured,
           h.released, h.hold_until, h.membership_id, h.reference, h.created_at, h.closed_at
      FROM credits.holds AS h
     WHERE h.account_id = $1
     ORDER BY h.hold_id DESC
$$;
COMMENT ON FUNCTION credits.account_holds(bigint) IS
    'The account''s holds, newest first, open and closed';

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
    held numeric,
    valid_from timestamptz,
    expires_at timestamptz,
    service_ids bigint[],
    spendable_now boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT b.batch_id, b.credit_type, b.source, b.package_id, p.name,
           b.amount, b.remaining, b.held, b.valid_from, b.expires_at, b.service_ids,
           b.is_open AND b.valid_from <= pg_catalog.clock_timestamp() AND a.is_member
      FROM credits.batches AS b
      JOIN credits.accounts AS a ON a.account_id = b.account_id
      LEFT JOIN credits.packages AS p ON p.package_id = b.package_id
     WHERE b.account_id = $1
       AND (b.is_open AND b.expires_at > pg_catalog.clock_timestamp() OR b.held > 0)
     ORDER BY b.credit_type, b.expires_at, b.valid_from, b.batch_id
$$;
COMMENT ON FUNCTION credits.account_batches(bigint) IS
    'The account''s batches with credits left to spend or held, in consumption order, with package name, held amounts and whether each can be spent now (the customer portal)';

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
           pg_catalog.format('total %s but batches hold %s', t.total, s.kept)
      FROM credits.account_totals AS t
      FULL JOIN (SELECT b.account_id, b.credit_type, pg_catalog.sum(b.remaining) AS kept
                   FROM credits.batches AS b
                  WHERE $1 IS NULL OR b.account_id = $1
                  GROUP BY b.account_id, b.credit_type) AS s
             ON s.account_id = t.account_id AND s.credit_type = t.credit_type
     WHERE ($1 IS NULL OR COALESCE(t.account_id, s.account_id) = $1)
       AND t.total IS DISTINCT FROM s.kept
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
    UNION ALL
    -- a batch whose held credits are not what its open holds keep
    SELECT b.account_id, b.credit_type, b.batch_id,
           pg_catalog.format('held %s but holds keep %s', b.held, COALESCE(k.kept, 0))
      FROM credits.batches AS b
      LEFT JOIN (SELECT a.account_id, a.batch_id, pg_catalog.sum(a.remaining) AS kept
                   FROM credits.hold_allocations AS a
                  GROUP BY a.account_id, a.batch_id) AS k
             ON k.account_id = b.account_id AND k.batch_id = b.batch_id
     WHERE ($1 IS NULL OR b.account_id = $1)
       AND b.held <> COALESCE(k.kept, 0)
    UNION ALL
    -- a hold whose credits are not all accounted for
    SELECT h.account_id, h.credit_type, NULL::bigint,
           pg_catalog.format('hold %s (%s): amount %s, captured %s, released %s, still kept %s',
                             h.hold_id, h.status, h.amount, h.captured, h.released, COALESCE(k.kept, 0))
      FROM credits.holds AS h
      LEFT JOIN (SELECT a.account_id, a.hold_id, pg_catalog.sum(a.remaining) AS kept
                   FROM credits.hold_allocations AS a
                  GROUP BY a.account_id, a.hold_id) AS k
             ON k.account_id = h.account_id AND k.hold_id = h.hold_id
     WHERE ($1 IS NULL OR h.account_id = $1)
       AND CASE WHEN h.status = 'open'
                THEN COALESCE(k.kept, 0) <> h.amount OR h.captured <> 0 OR h.released <> 0
                ELSE COALESCE(k.kept, 0) <> 0 OR h.captured + h.released <> h.amount
           END
$$;
COMMENT ON FUNCTION credits.verify_ledger(bigint) IS
    'Lists every place where the ledger does not reconcile with batches, running totals and holds; no rows means consistent';

------------------------------------------------------------------------------
-- Scheduling with pg_cron (optional)
------------------------------------------------------------------------------

-- A procedure, so that each batch of expiries commits on its own and no
-- account stays locked for the whole run.  After each batch it pauses, so
-- that its work takes at most credits.expiry_work_share of the time and a
-- large backlog does not take a core away from the bookings; the pause
-- holds no lock.  Each transaction it commits has synchronous_commit set
-- to credits.expiry_synchronous_commit (off by default) for that
-- transaction only: a crash can lose the last expiries (up to three times
-- wal_writer_delay), which the next run makes again (they depend on
-- nothing but the rows and the clock), and a later synchronous commit
-- flushes them with its own WAL, so nothing written after them can
-- survive a crash that they do not.  The caller's setting is back after
-- each COMMIT.  It cannot carry SET search_path (a procedure with
-- SET cannot COMMIT), so every name and operator in it is qualified.
CREATE PROCEDURE credits.run_expiry(batch_size integer DEFAULT 1000)
LANGUAGE plpgsql
AS $$
DECLARE
    releasing_holds boolean := true;
    started timestamptz;
    done bigint;
    work_share float8;
BEGIN
    LOOP
        started := pg_catalog.clock_timestamp();
        IF releasing_holds THEN
            done := credits.release_expired_holds(batch_size);
        ELSE
            done := credits.expire_batches(batch_size);
        END IF;
        -- read at COMMIT; after the call, which has loaded the library
        -- that defines the setting
        PERFORM pg_catalog.set_config('synchronous_commit',
                                      pg_catalog.current_setting('credits.expiry_synchronous_commit'),
                                      true);
        COMMIT;
        IF done OPERATOR(pg_catalog.=) 0 THEN
            -- overdue holds first, then due batches, each until none is left
            EXIT WHEN NOT releasing_holds;
            releasing_holds := false;
        ELSE
            work_share := pg_catalog.current_setting('credits.expiry_work_share')::pg_catalog.float8;
            IF work_share OPERATOR(pg_catalog.<) 1 THEN
                PERFORM pg_catalog.pg_sleep(
                    pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started)
                    OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) work_share)
                    OPERATOR(pg_catalog./) work_share);
            END IF;
        END IF;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE credits.run_expiry(integer) IS
    'Releases overdue holds, then expires due batches, each until nothing is left, committing after each batch with synchronous_commit = credits.expiry_synchronous_commit and pausing so that its work takes at most credits.expiry_work_share of the time; what pg_cron runs';

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
    credits.allocation, credits.redemption, credits.ledger_problem, credits.refund,
    credits.hold, credits.hold_status, credits.cancellation_rule, credits.cancellation
    FROM PUBLIC;
