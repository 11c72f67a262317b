/* sql/credits--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credits UPDATE TO '1.1'" to load this file. \quit

/*
 * 1.1: the booking lifecycle.  Holds (reserve, capture, release),
 * refunds, cancellations by policy, credits instead of a money refund,
 * voided batches, and memberships.
 *
 * Functions whose result changes are dropped and created again; the
 * grants an administrator made on them are kept (see restore_grants).
 */

------------------------------------------------------------------------------
-- Types
------------------------------------------------------------------------------

ALTER TYPE credits.entry_kind ADD VALUE 'refund';
ALTER TYPE credits.entry_kind ADD VALUE 'void';
ALTER TYPE credits.batch_source ADD VALUE 'refund';
ALTER TYPE credits.operation_kind ADD VALUE 'hold_credits';
ALTER TYPE credits.operation_kind ADD VALUE 'hold_service';
ALTER TYPE credits.operation_kind ADD VALUE 'capture_hold';
ALTER TYPE credits.operation_kind ADD VALUE 'release_hold';
ALTER TYPE credits.operation_kind ADD VALUE 'release_expired_holds';
ALTER TYPE credits.operation_kind ADD VALUE 'refund_redemption';
ALTER TYPE credits.operation_kind ADD VALUE 'refund_as_credits';
ALTER TYPE credits.operation_kind ADD VALUE 'void_batch';
ALTER TYPE credits.operation_kind ADD VALUE 'cancel_booking';
ALTER TYPE credits.operation_kind ADD VALUE 'end_membership';
COMMENT ON TYPE credits.entry_kind IS
    'Kind of a ledger entry: grant adds a batch, redeem spends from it (also a capture), expire zeroes what is left after expires_at, refund gives redeemed credits back, void takes them away (chargeback)';

ALTER TYPE credits.redemption ADD ATTRIBUTE membership_id bigint;
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

ALTER TABLE credits.services
    ADD COLUMN cancel_window interval NOT NULL DEFAULT '0'
        CONSTRAINT services_cancel_window_check CHECK (cancel_window >= '0'::interval),
    ADD COLUMN late_cancel_share numeric NOT NULL DEFAULT 0
        CONSTRAINT services_late_cancel_share_check
        CHECK (late_cancel_share >= 0 AND late_cancel_share <= 1);
COMMENT ON COLUMN credits.services.cancel_window IS
    'A cancellation at least this long before the booked start gets everything back';
COMMENT ON COLUMN credits.services.late_cancel_share IS
    'Share (0 to 1) given back for a later cancellation before the start; nothing at or after the start';

ALTER TABLE credits.packages
    ADD COLUMN membership_period interval
        CONSTRAINT packages_membership_period_check CHECK (membership_period > '0'::interval),
    ALTER COLUMN credits DROP NOT NULL,
    ADD CONSTRAINT packages_credits_or_membership
        CHECK ((credits IS NULL) = (membership_period IS NOT NULL)),
    ADD CONSTRAINT packages_membership_has_no_expiry
        CHECK (membership_period IS NULL OR (expires_after IS NULL AND NOT permanent));
COMMENT ON COLUMN credits.packages.membership_period IS
    'Set for a membership package: the period of access to its services it sells, instead of credits';

------------------------------------------------------------------------------
-- Per-account state
------------------------------------------------------------------------------

ALTER TABLE credits.batches
    ADD COLUMN held numeric NOT NULL DEFAULT 0,
    ADD COLUMN voided_at timestamptz,
    DROP CONSTRAINT batches_open_while_spendable,
    ADD CONSTRAINT batches_open_while_spendable CHECK (is_open = (remaining > held)),
    ADD CONSTRAINT batches_held_within_remaining CHECK (held >= 0 AND held <= remaining);
COMMENT ON COLUMN credits.batches.held IS
    'Credits of the batch that open holds keep; what can be spent is remaining - held';
-- the customer portal lists batches whose credits are all held, too
CREATE INDEX batches_held_idx ON credits.batches (account_id) WHERE held > 0;

ALTER TABLE credits.operations
    ADD COLUMN refund_of bigint,
    ADD COLUMN hold_id bigint,
    ADD COLUMN membership_id bigint,
    ADD COLUMN balance_after numeric;
COMMENT ON COLUMN credits.operations.refund_of IS
    'For a refund or a cancellation of a redemption: the redemption';
-- refunds of one redemption, found without reading the account's history
CREATE INDEX operations_refund_of_idx ON credits.operations (account_id, refund_of)
    WHERE refund_of IS NOT NULL;

ALTER TABLE credits.sales
    ALTER COLUMN batch_id DROP NOT NULL,
    ALTER COLUMN credits DROP NOT NULL,
    ADD COLUMN membership_id bigint,
    ADD CONSTRAINT sales_batch_or_membership CHECK ((batch_id IS NULL) <> (membership_id IS NULL));

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

SELECT pg_catalog.pg_extension_config_dump('credits.holds', '');
SELECT pg_catalog.pg_extension_config_dump('credits.hold_allocations', '');
SELECT pg_catalog.pg_extension_config_dump('credits.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('credits.membership_visits', '');
SELECT pg_catalog.pg_extension_config_dump('credits.cancellations', '');

------------------------------------------------------------------------------
-- Functions kept with their grants across DROP and CREATE
------------------------------------------------------------------------------

-- While this script runs: re-grants what a function's saved ACL granted
-- to roles other than its owner (a new function starts with PUBLIC's
-- default EXECUTE, which is revoked first, as in 1.0).
CREATE FUNCTION credits.restore_grants(routine regprocedure, saved pg_catalog.aclitem[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT a.grantee, a.privilege_type, a.is_grantable
          FROM pg_catalog.aclexplode(saved) AS a
         WHERE a.grantee OPERATOR(pg_catalog.<>) (SELECT p.proowner FROM pg_catalog.pg_proc AS p
                                                   WHERE p.oid OPERATOR(pg_catalog.=) routine)
    LOOP
        EXECUTE pg_catalog.format('GRANT %s ON ROUTINE %s TO %s%s',
                                  item.privilege_type, routine,
                                  CASE WHEN item.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                                       ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(item.grantee)) END,
                                  CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

SELECT pg_catalog.set_config('credits_upgrade.account_batches',
       COALESCE(p.proacl, '{}')::text, true)
  FROM pg_catalog.pg_proc AS p WHERE p.oid = 'credits.account_batches(bigint)'::regprocedure;
SELECT pg_catalog.set_config('credits_upgrade.verify_ledger',
       COALESCE(p.proacl, '{}')::text, true)
  FROM pg_catalog.pg_proc AS p WHERE p.oid = 'credits.verify_ledger(bigint)'::regprocedure;
SELECT pg_catalog.set_config('credits_upgrade.run_expiry',
       COALESCE(p.proacl, '{}')::text, true)
  FROM pg_catalog.pg_proc AS p WHERE p.oid = 'credits.run_expiry(integer)'::regprocedure;

DROP FUNCTION credits.account_batches(bigint);
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
REVOKE ALL ON FUNCTION credits.account_batches(bigint) FROM PUBLIC;
SELECT credits.restore_grants('credits.account_batches(bigint)',
                              pg_catalog.current_setting('credits_upgrade.account_batches')::pg_catalog.aclitem[]);

DROP FUNCTION credits.verify_ledger(bigint);
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
REVOKE ALL ON FUNCTION credits.verify_ledger(bigint) FROM PUBLIC;
SELECT credits.restore_grants('credits.verify_ledger(bigint)',
                              pg_catalog.current_setting('credits_upgrade.verify_ledger')::pg_catalog.aclitem[]);

-- As in 1.0, a procedure cannot carry SET search_path and COMMIT, so every
-- name in it is qualified.
DROP PROCEDURE credits.run_expiry(integer);
CREATE PROCEDURE credits.run_expiry(batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    done bigint;
BEGIN
    LOOP
        done := credits.release_expired_holds(batch_size);
        COMMIT;
        EXIT WHEN done OPERATOR(pg_catalog.=) 0;
    END LOOP;
    LOOP
        done := credits.expire_batches(batch_size);
        COMMIT;
        EXIT WHEN done OPERATOR(pg_catalog.=) 0;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE credits.run_expiry(integer) IS
    'Releases overdue holds, then expires due batches, each until nothing is left, committing after each batch; what pg_cron runs';
REVOKE ALL ON PROCEDURE credits.run_expiry(integer) FROM PUBLIC;
SELECT credits.restore_grants('credits.run_expiry(integer)',
                              pg_catalog.current_setting('credits_upgrade.run_expiry')::pg_catalog.aclitem[]);

DROP FUNCTION credits.restore_grants(regprocedure, pg_catalog.aclitem[]);

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
-- Privileges: nothing for PUBLIC, as in 1.0; doc/roles.sql grants.
------------------------------------------------------------------------------

REVOKE ALL ON credits.holds, credits.hold_allocations, credits.memberships,
    credits.membership_visits, credits.cancellations FROM PUBLIC;
REVOKE ALL ON FUNCTION
    credits.hold_credits(bigint, numeric, text, bigint, timestamptz, text, text),
    credits.hold_service(bigint, bigint, integer, timestamptz, text, text),
    credits.capture_hold(bigint, bigint, numeric, text),
    credits.release_hold(bigint, bigint),
    credits.release_expired_holds(integer),
    credits.refund_redemption(bigint, bigint, numeric, text, text),
    credits.cancel_booking(bigint, bigint, timestamptz, timestamptz),
    credits.refund_as_credits(bigint, numeric, text, text, text),
    credits.void_batch(bigint, bigint, text),
    credits.has_access(bigint, bigint, timestamptz),
    credits.end_membership(bigint, bigint, timestamptz),
    credits.account_memberships(bigint),
    credits.account_holds(bigint)
FROM PUBLIC;
REVOKE ALL ON TYPE credits.refund, credits.hold, credits.hold_status,
    credits.cancellation_rule, credits.cancellation FROM PUBLIC;
