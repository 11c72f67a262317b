-- doc/roles.sql: the documented role setup for the credits extension.
--
-- Three group roles, without LOGIN; grant them to the login roles that use
-- them (GRANT credits_app TO my_web_backend).  Run as the superuser that
-- created the extension, in the database that has it.  Every function is
-- SECURITY DEFINER, so EXECUTE is all a role needs to change balances: no
-- role below can write a batch, the ledger or a running total directly.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'credits_app') THEN
        CREATE ROLE credits_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'credits_admin') THEN
        CREATE ROLE credits_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'credits_reader') THEN
        CREATE ROLE credits_reader NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA credits TO credits_app, credits_admin, credits_reader;
-- so that each role's own functions and tables may use the result types
GRANT USAGE ON TYPE credits.entry_kind, credits.batch_source, credits.operation_kind,
    credits.allocation, credits.redemption, credits.ledger_problem, credits.refund,
    credits.hold, credits.hold_status, credits.cancellation_rule, credits.cancellation
    TO credits_app, credits_admin, credits_reader;

-- The application sells packages, spends credits and shows balances; it
-- reads the catalogue to list packages and prices, and edits nothing.
GRANT SELECT ON credits.credit_types, credits.services, credits.packages TO credits_app;
GRANT EXECUTE ON FUNCTION
    credits.grant_package(bigint, bigint, text, text, timestamptz),
    credits.grant_credits(bigint, numeric, timestamptz, timestamptz, text, bigint[], text, text, text),
    credits.redeem_credits(bigint, numeric, text, bigint, text, text),
    credits.redeem_service(bigint, bigint, integer, text, text),
    credits.balance(bigint, text, bigint),
    credits.can_redeem(bigint, bigint, integer),
    credits.account_batches(bigint),
    credits.account_history(bigint, integer, bigint),
    -- the booking lifecycle
    credits.hold_credits(bigint, numeric, text, bigint, timestamptz, text, text),
    credits.hold_service(bigint, bigint, integer, timestamptz, text, text),
    credits.capture_hold(bigint, bigint, numeric, text),
    credits.release_hold(bigint, bigint),
    credits.refund_redemption(bigint, bigint, numeric, text, text),
    credits.cancel_booking(bigint, bigint, timestamptz, timestamptz),
    credits.refund_as_credits(bigint, numeric, text, text, text),
    credits.has_access(bigint, bigint, timestamptz),
    credits.account_memberships(bigint),
    credits.account_holds(bigint)
TO credits_app;

-- The administrator edits the catalogue (credit types, services, packages,
-- accounts: membership and time zone), runs expiry and its schedule, voids
-- batches after a chargeback, ends memberships, and reads everything.  Per-account state stays writable only through the
-- functions.
GRANT SELECT, INSERT, UPDATE, DELETE
    ON credits.credit_types, credits.services, credits.packages, credits.accounts
    TO credits_admin;
GRANT USAGE ON SEQUENCE credits.package_id_seq TO credits_admin;
GRANT SELECT ON credits.batches, credits.account_totals, credits.operations,
    credits.ledger, credits.sales, credits.holds, credits.hold_allocations,
    credits.memberships, credits.membership_visits, credits.cancellations
    TO credits_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA credits TO credits_admin;
GRANT EXECUTE ON PROCEDURE credits.run_expiry(integer) TO credits_admin;

-- The read-only role (reporting, support) reads every table and the
-- read functions, and changes nothing.
GRANT SELECT ON ALL TABLES IN SCHEMA credits TO credits_reader;
GRANT EXECUTE ON FUNCTION
    credits.balance(bigint, text, bigint),
    credits.can_redeem(bigint, bigint, integer),
    credits.account_batches(bigint),
    credits.account_history(bigint, integer, bigint),
    credits.verify_ledger(bigint),
    credits.has_access(bigint, bigint, timestamptz),
    credits.account_memberships(bigint),
    credits.account_holds(bigint)
TO credits_reader;
