/*
 * bench/plpgsql.sql: the benchmark's PL/pgSQL baseline.
 *
 * Straightforward PL/pgSQL versions of credits.redeem_credits,
 * grant_package, hold_credits and capture_hold, on the same credits.*
 * tables and sequences, keeping the same rules as the C functions in
 * src/: the same argument checks and SQLSTATEs, the same lock taken first
 * (the account row, SELECT ... FOR UPDATE), the same statements' reads
 * after it (a fresh snapshot each under READ COMMITTED), the same
 * consumption order and spendable predicate (batches_spendable_idx), the
 * same request text for idempotency keys, and the same rows written
 * (batches, ledger, account_totals, operations, sales, holds,
 * hold_allocations).  bench/check-plpgsql.sql shows that a sequence of
 * calls leaves the same books through either.
 *
 * Like the C functions they are SECURITY DEFINER with a fixed search_path
 * and every name qualified, so that they pay the same call overhead.
 *
 * Parameters carry the C functions' names, which are also column names, so
 * every function says #variable_conflict use_variable and every column
 * reference in its statements is qualified with a table alias (ON CONFLICT
 * names the primary key constraint for the same reason).
 *
 * Not covered: membership packages (grant_package raises 0A000), the
 * service-priced redeem_service and hold_service, release_hold and the
 * rest.  bench_plpgsql.redeem_floor is defined elsewhere.
 */

CREATE SCHEMA IF NOT EXISTS bench_plpgsql;

------------------------------------------------------------------------------
-- redeem_credits: src/redeem.c, src/draw.c, src/movement.c
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION bench_plpgsql.redeem_credits(
    account_id bigint,
    amount numeric,
    credit_type text DEFAULT 'credit',
    service_id bigint DEFAULT NULL,
    reference text DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.redemption
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    v_request text;
    v_accepts boolean;
    v_service_type text;
    v_service_name text;
    v_is_member boolean;
    v_prior record;
    v_now timestamptz;
    v_left numeric;
    v_take numeric;
    v_net numeric := 0;
    v_balance numeric;
    v_allocations credits.allocation[] := '{}';
    v_operation_id bigint;
    r record;
BEGIN
    -- arguments (src/arguments.c), before anything is read or locked
    IF account_id IS NULL THEN
        RAISE EXCEPTION 'argument "account_id" of redeem_credits must not be null' USING ERRCODE = '22004';
    END IF;
    IF amount IS NULL THEN
        RAISE EXCEPTION 'argument "amount" of redeem_credits must not be null' USING ERRCODE = '22004';
    END IF;
    IF credit_type IS NULL THEN
        RAISE EXCEPTION 'argument "credit_type" of redeem_credits must not be null' USING ERRCODE = '22004';
    END IF;
    IF amount = 'NaN' THEN
        RAISE EXCEPTION 'amount must be a number, not NaN' USING ERRCODE = '22023';
    END IF;
    IF amount = 'Infinity' OR amount = '-Infinity' THEN
        RAISE EXCEPTION 'amount must be finite' USING ERRCODE = '22003';
    END IF;
    IF amount <= 0 THEN
        RAISE EXCEPTION 'amount must be greater than zero' USING ERRCODE = '22023',
            DETAIL = format('The value given is %s.', amount);
    END IF;
    IF amount >= 1000000000000000 THEN
        RAISE EXCEPTION 'amount is out of range' USING ERRCODE = '22003',
            DETAIL = 'Amounts of credits must be less than 1000000000000000.';
    END IF;

    -- the request text, as credits_request_* writes it: compared on a retry
    v_request := 'redeem_credits amount=' || trim_scale(amount)::text
        || ' credit_type=' || octet_length(credit_type)::text || ':' || credit_type
        || ' service_id=' || COALESCE(service_id::text, 'null')
        || ' reference=' || COALESCE(octet_length(reference)::text || ':' || reference, 'null');

    -- the service, if one is named: it must exist, accept credits, be of the type
    IF service_id IS NOT NULL THEN
        SELECT s.accepts_credits, s.credit_type, s.name
          INTO v_accepts, v_service_type, v_service_name
          FROM credits.services AS s
         WHERE s.service_id = service_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'service % does not exist', service_id USING ERRCODE = 'CR005';
        END IF;
        IF NOT v_accepts THEN
            RAISE EXCEPTION 'service % (%) does not accept credits', service_id, v_service_name
                USING ERRCODE = 'CR006',
                      HINT = 'Set credits.services.accepts_credits to true to allow it.';
        END IF;
        IF v_service_type <> credit_type THEN
            RAISE EXCEPTION 'service % is paid in credit type "%", not "%"',
                service_id, v_service_type, credit_type USING ERRCODE = '22023';
        END IF;
    END IF;

    -- the account lock, first
    SELECT a.is_member INTO v_is_member
      FROM credits.accounts AS a
     WHERE a.account_id = account_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', account_id USING ERRCODE = 'CR002',
            HINT = 'An account is created by its first grant.';
    END IF;

    -- a retry returns the first result
    IF idempotency_key IS NOT NULL THEN
        SELECT o.operation_id, o.request, o.amount, o.membership_id,
               COALESCE(o.balance_after,
                        (SELECT l.balance_after FROM credits.ledger AS l
                          WHERE l.account_id = o.account_id AND l.operation_id = o.operation_id
                          ORDER BY l.entry_no DESC LIMIT 1)) AS balance_after
          INTO v_prior
          FROM credits.operations AS o
         WHERE o.account_id = account_id AND o.idempotency_key = idempotency_key;
        IF FOUND THEN
            IF v_prior.request <> v_request THEN
                RAISE EXCEPTION 'idempotency key "%" was already used for a different request', idempotency_key
                    USING ERRCODE = 'CR010',
                          DETAIL = format('The first request was: %s. This one is: %s.', v_prior.request, v_request),
                          HINT = 'Use a new key for a new request.';
            END IF;
            RETURN ROW(v_prior.operation_id, v_prior.amount, COALESCE(v_prior.balance_after, 0),
                       ARRAY(SELECT ROW(l.batch_id, -l.delta, b.expires_at)::credits.allocation
                               FROM credits.ledger AS l
                               JOIN credits.batches AS b
                                 ON b.account_id = l.account_id AND b.batch_id = l.batch_id
                              WHERE l.account_id = account_id AND l.operation_id = v_prior.operation_id
                              ORDER BY l.entry_no),
                       v_prior.membership_id)::credits.redemption;
        END IF;
    END IF;

    IF NOT v_is_member THEN
        RAISE EXCEPTION 'account % is not a member', account_id USING ERRCODE = 'CR009',
            DETAIL = 'Only members can spend credits; the account''s batches are kept.';
    END IF;

    -- spendable batches in consumption order, drawn until the amount is covered
    v_now := clock_timestamp();
    v_left := amount;
    FOR r IN
        SELECT b.batch_id, b.remaining - b.held AS available, b.expires_at
          FROM credits.batches AS b
         WHERE b.account_id = account_id AND b.credit_type = credit_type AND b.is_open
           AND b.expires_at > v_now AND b.valid_from <= v_now
           AND (b.service_ids IS NULL OR service_id = ANY (b.service_ids))
         ORDER BY b.expires_at, b.valid_from, b.batch_id
    LOOP
        v_take := LEAST(r.available, v_left);
        UPDATE credits.batches AS b
           SET remaining = b.remaining - v_take,
               is_open = b.remaining - v_take > b.held
         WHERE b.account_id = account_id AND b.batch_id = r.batch_id;
        v_allocations := v_allocations || ROW(r.batch_id, v_take, r.expires_at)::credits.allocation;
        v_net := v_net - v_take;
        v_left := v_left - v_take;
        EXIT WHEN v_left = 0;
    END LOOP;

    -- not covered: the error aborts the statement, batch updates included
    IF v_left > 0 THEN
        PERFORM FROM credits.credit_types AS t WHERE t.credit_type = credit_type;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'credit type "%" does not exist', credit_type USING ERRCODE = 'CR008',
                HINT = 'Credit types are listed in credits.credit_types.';
        END IF;
        IF service_id IS NOT NULL AND v_left = amount THEN
            PERFORM FROM credits.batches AS b
             WHERE b.account_id = account_id AND b.credit_type = credit_type AND b.is_open
               AND b.expires_at > v_now AND b.valid_from <= v_now
               AND b.service_ids IS NOT NULL AND NOT (service_id = ANY (b.service_ids))
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'no credits of account % can be used for service %', account_id, service_id
                    USING ERRCODE = 'CR007',
                          DETAIL = format('The account''s spendable "%s" credits are restricted to other services.',
                                          credit_type);
            END IF;
        END IF;
        RAISE EXCEPTION 'insufficient credits' USING ERRCODE = 'CR001',
            DETAIL = format('Account %s needs %s "%s" credits and can spend %s.', account_id,
                            trim_scale(amount), credit_type, trim_scale(amount - v_left));
    END IF;

    -- the running total, the operation and one ledger row per batch drawn
    UPDATE credits.account_totals AS t
       SET total = t.total + v_net
     WHERE t.account_id = account_id AND t.credit_type = credit_type
    RETURNING t.total INTO v_balance;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % has batches but no running total', account_id USING ERRCODE = 'XX000';
    END IF;

    INSERT INTO credits.operations (account_id, operation_id, kind, idempotency_key, request,
                                    amount, credit_type, service_id, reference, created_at,
                                    balance_after)
    VALUES (account_id, nextval('credits.operation_id_seq'), 'redeem_credits', idempotency_key,
            v_request, amount, credit_type, service_id, reference, v_now, v_balance)
    RETURNING operation_id INTO v_operation_id;

    INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                                delta, balance_after, service_id, reference, created_at)
    SELECT account_id, v_operation_id, e.entry_no, 'redeem'::credits.entry_kind, e.batch_id,
           credit_type, -e.amount,
           v_balance - v_net - sum(e.amount) OVER (ORDER BY e.entry_no),
           service_id, reference, v_now
      FROM unnest(v_allocations) WITH ORDINALITY AS e(batch_id, amount, expires_at, entry_no);

    RETURN ROW(v_operation_id, amount, v_balance, v_allocations, NULL)::credits.redemption;
END
$$;

------------------------------------------------------------------------------
-- grant_package: src/grant.c (credit packages only)
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION bench_plpgsql.grant_package(
    account_id bigint,
    package_id bigint,
    idempotency_key text DEFAULT NULL,
    payment_ref text DEFAULT NULL,
    granted_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    v_request text;
    v_package record;
    v_service_ids bigint[];
    v_validity interval;
    v_expires_at timestamptz;
    v_is_member boolean;
    v_timezone text;
    v_prior_id bigint;
    v_prior_request text;
    v_now timestamptz;
    v_total numeric;
    v_operation_id bigint;
    v_batch_id bigint;
BEGIN
    IF account_id IS NULL THEN
        RAISE EXCEPTION 'argument "account_id" of grant_package must not be null' USING ERRCODE = '22004';
    END IF;
    IF package_id IS NULL THEN
        RAISE EXCEPTION 'argument "package_id" of grant_package must not be null' USING ERRCODE = '22004';
    END IF;
    IF granted_at IS NULL THEN
        RAISE EXCEPTION 'argument "granted_at" of grant_package must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT isfinite(granted_at) THEN
        RAISE EXCEPTION 'granted_at must be a finite time' USING ERRCODE = '22023';
    END IF;

    -- a granted_at left at its now() default is not part of the request;
    -- any other is written in ISO 8601 in UTC, as credits_request_add_time does
    v_request := 'grant_package package_id=' || package_id::text
        || ' payment_ref=' || COALESCE(octet_length(payment_ref)::text || ':' || payment_ref, 'null');
    IF granted_at <> now() THEN
        v_request := v_request || ' granted_at='
            || rtrim(rtrim(to_char(granted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '0'), '.')
            || CASE WHEN granted_at AT TIME ZONE 'UTC' < '0001-01-01 00:00:00' THEN ' BC' ELSE '' END
            || 'Z';
    END IF;

    -- the catalogue, without locks
    SELECT p.credit_type, p.credits, p.price, p.currency, p.country, p.expires_after,
           p.permanent, p.service_ids, p.active, p.name, p.membership_period
      INTO v_package
      FROM credits.packages AS p
     WHERE p.package_id = package_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'package % does not exist', package_id USING ERRCODE = 'CR003';
    END IF;
    IF NOT v_package.active THEN
        RAISE EXCEPTION 'package % (%) is not active', package_id, v_package.name
            USING ERRCODE = 'CR004', HINT = 'Set credits.packages.active to true to sell it again.';
    END IF;
    IF v_package.membership_period IS NOT NULL THEN
        RAISE EXCEPTION 'membership packages are not supported in the baseline' USING ERRCODE = '0A000';
    END IF;

    -- services the batch is restricted to: NULL or empty means every service
    v_service_ids := v_package.service_ids;
    IF v_service_ids IS NOT NULL THEN
        IF array_ndims(v_service_ids) > 1 THEN
            RAISE EXCEPTION 'services must be a one-dimensional array' USING ERRCODE = '22023';
        END IF;
        IF array_position(v_service_ids, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'services must not contain null' USING ERRCODE = '22004';
        END IF;
        IF cardinality(v_service_ids) = 0 THEN
            v_service_ids := NULL;
        END IF;
    END IF;

    IF NOT v_package.permanent THEN
        -- the GUC exists once the extension's library is loaded; before that
        -- a value set in the session is a placeholder, and the default applies
        v_validity := COALESCE(v_package.expires_after,
                               COALESCE(current_setting('credits.default_expiry', true), '12 months')::interval);
    END IF;

    -- the account lock, first; a missing account is created
    SELECT a.is_member, a.timezone INTO v_is_member, v_timezone
      FROM credits.accounts AS a
     WHERE a.account_id = account_id
       FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO credits.accounts (account_id) VALUES (account_id)
        ON CONFLICT ON CONSTRAINT accounts_pkey DO NOTHING;
        SELECT a.is_member, a.timezone INTO v_is_member, v_timezone
          FROM credits.accounts AS a
         WHERE a.account_id = account_id
           FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'account % vanished after it was created', account_id USING ERRCODE = 'XX000';
        END IF;
    END IF;

    -- a retry returns the first batch
    IF idempotency_key IS NOT NULL THEN
        SELECT o.operation_id, o.request INTO v_prior_id, v_prior_request
          FROM credits.operations AS o
         WHERE o.account_id = account_id AND o.idempotency_key = idempotency_key;
        IF FOUND THEN
            IF v_prior_request <> v_request THEN
                RAISE EXCEPTION 'idempotency key "%" was already used for a different request', idempotency_key
                    USING ERRCODE = 'CR010',
                          DETAIL = format('The first request was: %s. This one is: %s.', v_prior_request, v_request),
                          HINT = 'Use a new key for a new request.';
            END IF;
            SELECT l.batch_id INTO v_batch_id
              FROM credits.ledger AS l
             WHERE l.account_id = account_id AND l.operation_id = v_prior_id
             ORDER BY l.entry_no
             LIMIT 1;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'operation % has no ledger entry', v_prior_id USING ERRCODE = 'XX000';
            END IF;
            RETURN v_batch_id;
        END IF;
    END IF;

    IF NOT v_is_member THEN
        RAISE EXCEPTION 'account % is not a member', account_id USING ERRCODE = 'CR009',
            DETAIL = 'Only members can receive credits; the account''s batches are kept.';
    END IF;

    -- expiry as local date and time in the account's time zone
    IF v_package.permanent THEN
        v_expires_at := 'infinity';
    ELSE
        v_expires_at := ((granted_at AT TIME ZONE v_timezone) + v_validity) AT TIME ZONE v_timezone;
    END IF;
    v_now := clock_timestamp();

    -- running total first, then the operation, the batch, its ledger row, the sale
    INSERT INTO credits.account_totals AS t (account_id, credit_type, total)
    VALUES (account_id, v_package.credit_type, v_package.credits)
    ON CONFLICT ON CONSTRAINT account_totals_pkey DO UPDATE SET total = t.total + excluded.total
    RETURNING t.total INTO v_total;

    INSERT INTO credits.operations (account_id, operation_id, kind, idempotency_key, request,
                                    amount, credit_type, package_id, reference, created_at,
                                    balance_after)
    VALUES (account_id, nextval('credits.operation_id_seq'), 'grant_package', idempotency_key,
            v_request, v_package.credits, v_package.credit_type, package_id, payment_ref, v_now,
            v_total)
    RETURNING operation_id INTO v_operation_id;

    INSERT INTO credits.batches (account_id, batch_id, credit_type, source, package_id, amount,
                                 remaining, is_open, valid_from, expires_at, service_ids,
                                 reference, operation_id, created_at)
    VALUES (account_id, nextval('credits.batch_id_seq'), v_package.credit_type, 'purchase',
            package_id, v_package.credits, v_package.credits, true, granted_at, v_expires_at,
            v_service_ids, payment_ref, v_operation_id, v_now)
    RETURNING batch_id INTO v_batch_id;

    INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                                delta, balance_after, reference, created_at)
    VALUES (account_id, v_operation_id, 1, 'grant', v_batch_id, v_package.credit_type,
            v_package.credits, v_total, payment_ref, v_now);

    INSERT INTO credits.sales (account_id, operation_id, package_id, batch_id, credits, price,
                               currency, country, payment_ref, sold_at)
    VALUES (account_id, v_operation_id, package_id, v_batch_id, v_package.credits,
            v_package.price, v_package.currency, v_package.country, payment_ref, v_now);

    RETURN v_batch_id;
END
$$;

------------------------------------------------------------------------------
-- hold_credits: src/holds.c (credits_hold), src/draw.c
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION bench_plpgsql.hold_credits(
    account_id bigint,
    amount numeric,
    credit_type text DEFAULT 'credit',
    service_id bigint DEFAULT NULL,
    hold_until timestamptz DEFAULT NULL,
    reference text DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.hold
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    v_request text;
    v_accepts boolean;
    v_service_type text;
    v_service_name text;
    v_is_member boolean;
    v_prior_id bigint;
    v_prior_request text;
    v_hold record;
    v_now timestamptz;
    v_left numeric;
    v_take numeric;
    v_allocations credits.allocation[] := '{}';
    v_hold_id bigint;
    r record;
BEGIN
    IF account_id IS NULL THEN
        RAISE EXCEPTION 'argument "account_id" of hold_credits must not be null' USING ERRCODE = '22004';
    END IF;
    IF amount IS NULL THEN
        RAISE EXCEPTION 'argument "amount" of hold_credits must not be null' USING ERRCODE = '22004';
    END IF;
    IF credit_type IS NULL THEN
        RAISE EXCEPTION 'argument "credit_type" of hold_credits must not be null' USING ERRCODE = '22004';
    END IF;
    IF amount = 'NaN' THEN
        RAISE EXCEPTION 'amount must be a number, not NaN' USING ERRCODE = '22023';
    END IF;
    IF amount = 'Infinity' OR amount = '-Infinity' THEN
        RAISE EXCEPTION 'amount must be finite' USING ERRCODE = '22003';
    END IF;
    IF amount <= 0 THEN
        RAISE EXCEPTION 'amount must be greater than zero' USING ERRCODE = '22023',
            DETAIL = format('The value given is %s.', amount);
    END IF;
    IF amount >= 1000000000000000 THEN
        RAISE EXCEPTION 'amount is out of range' USING ERRCODE = '22003',
            DETAIL = 'Amounts of credits must be less than 1000000000000000.';
    END IF;
    IF NOT isfinite(hold_until) THEN
        RAISE EXCEPTION 'hold_until must be a finite time' USING ERRCODE = '22023';
    END IF;

    v_request := 'hold_credits amount=' || trim_scale(amount)::text
        || ' credit_type=' || octet_length(credit_type)::text || ':' || credit_type
        || ' service_id=' || COALESCE(service_id::text, 'null');
    IF hold_until IS NOT NULL AND hold_until <> now() THEN
        v_request := v_request || ' hold_until='
            || rtrim(rtrim(to_char(hold_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '0'), '.')
            || CASE WHEN hold_until AT TIME ZONE 'UTC' < '0001-01-01 00:00:00' THEN ' BC' ELSE '' END
            || 'Z';
    END IF;
    v_request := v_request
        || ' reference=' || COALESCE(octet_length(reference)::text || ':' || reference, 'null');

    IF service_id IS NOT NULL THEN
        SELECT s.accepts_credits, s.credit_type, s.name
          INTO v_accepts, v_service_type, v_service_name
          FROM credits.services AS s
         WHERE s.service_id = service_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'service % does not exist', service_id USING ERRCODE = 'CR005';
        END IF;
        IF NOT v_accepts THEN
            RAISE EXCEPTION 'service % (%) does not accept credits', service_id, v_service_name
                USING ERRCODE = 'CR006',
                      HINT = 'Set credits.services.accepts_credits to true to allow it.';
        END IF;
        IF v_service_type <> credit_type THEN
            RAISE EXCEPTION 'service % is paid in credit type "%", not "%"',
                service_id, v_service_type, credit_type USING ERRCODE = '22023';
        END IF;
    END IF;

    SELECT a.is_member INTO v_is_member
      FROM credits.accounts AS a
     WHERE a.account_id = account_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', account_id USING ERRCODE = 'CR002',
            HINT = 'An account is created by its first grant.';
    END IF;

    -- a retry returns the hold as it was placed
    IF idempotency_key IS NOT NULL THEN
        SELECT o.operation_id, o.request INTO v_prior_id, v_prior_request
          FROM credits.operations AS o
         WHERE o.account_id = account_id AND o.idempotency_key = idempotency_key;
        IF FOUND THEN
            IF v_prior_request <> v_request THEN
                RAISE EXCEPTION 'idempotency key "%" was already used for a different request', idempotency_key
                    USING ERRCODE = 'CR010',
                          DETAIL = format('The first request was: %s. This one is: %s.', v_prior_request, v_request),
                          HINT = 'Use a new key for a new request.';
            END IF;
            SELECT h.amount, h.hold_until, h.membership_id INTO v_hold
              FROM credits.holds AS h
             WHERE h.account_id = account_id AND h.hold_id = v_prior_id;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'operation % placed no hold', v_prior_id USING ERRCODE = 'XX000';
            END IF;
            RETURN ROW(v_prior_id, v_hold.amount, v_hold.hold_until,
                       ARRAY(SELECT ROW(a.batch_id, a.amount, b.expires_at)::credits.allocation
                               FROM credits.hold_allocations AS a
                               JOIN credits.batches AS b
                                 ON b.account_id = a.account_id AND b.batch_id = a.batch_id
                              WHERE a.account_id = account_id AND a.hold_id = v_prior_id
                              ORDER BY a.entry_no),
                       v_hold.membership_id)::credits.hold;
        END IF;
    END IF;

    IF NOT v_is_member THEN
        RAISE EXCEPTION 'account % is not a member', account_id USING ERRCODE = 'CR009',
            DETAIL = 'Only members can spend credits; the account''s batches are kept.';
    END IF;

    -- drawn like a redemption, but held: batches' held goes up, no ledger rows
    v_now := clock_timestamp();
    v_left := amount;
    FOR r IN
        SELECT b.batch_id, b.remaining - b.held AS available, b.expires_at
          FROM credits.batches AS b
         WHERE b.account_id = account_id AND b.credit_type = credit_type AND b.is_open
           AND b.expires_at > v_now AND b.valid_from <= v_now
           AND (b.service_ids IS NULL OR service_id = ANY (b.service_ids))
         ORDER BY b.expires_at, b.valid_from, b.batch_id
    LOOP
        v_take := LEAST(r.available, v_left);
        UPDATE credits.batches AS b
           SET held = b.held + v_take,
               is_open = b.remaining > b.held + v_take
         WHERE b.account_id = account_id AND b.batch_id = r.batch_id;
        v_allocations := v_allocations || ROW(r.batch_id, v_take, r.expires_at)::credits.allocation;
        v_left := v_left - v_take;
        EXIT WHEN v_left = 0;
    END LOOP;

    IF v_left > 0 THEN
        PERFORM FROM credits.credit_types AS t WHERE t.credit_type = credit_type;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'credit type "%" does not exist', credit_type USING ERRCODE = 'CR008',
                HINT = 'Credit types are listed in credits.credit_types.';
        END IF;
        IF service_id IS NOT NULL AND v_left = amount THEN
            PERFORM FROM credits.batches AS b
             WHERE b.account_id = account_id AND b.credit_type = credit_type AND b.is_open
               AND b.expires_at > v_now AND b.valid_from <= v_now
               AND b.service_ids IS NOT NULL AND NOT (service_id = ANY (b.service_ids))
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'no credits of account % can be used for service %', account_id, service_id
                    USING ERRCODE = 'CR007',
                          DETAIL = format('The account''s spendable "%s" credits are restricted to other services.',
                                          credit_type);
            END IF;
        END IF;
        RAISE EXCEPTION 'insufficient credits' USING ERRCODE = 'CR001',
            DETAIL = format('Account %s needs %s "%s" credits and can spend %s.', account_id,
                            trim_scale(amount), credit_type, trim_scale(amount - v_left));
    END IF;

    -- the operation (its id is the hold's), with the unchanged running total
    INSERT INTO credits.operations (account_id, operation_id, kind, idempotency_key, request,
                                    amount, credit_type, service_id, reference, created_at,
                                    balance_after)
    VALUES (account_id, nextval('credits.operation_id_seq'), 'hold_credits', idempotency_key,
            v_request, amount, credit_type, service_id, reference, v_now,
            COALESCE((SELECT t.total FROM credits.account_totals AS t
                       WHERE t.account_id = account_id AND t.credit_type = credit_type), 0))
    RETURNING operation_id INTO v_hold_id;

    INSERT INTO credits.holds (account_id, hold_id, credit_type, service_id, quantity, amount,
                               hold_until, membership_id, reference, created_at)
    VALUES (account_id, v_hold_id, credit_type, service_id, NULL, amount,
            hold_until, NULL, reference, v_now);

    INSERT INTO credits.hold_allocations (account_id, hold_id, batch_id, entry_no, amount, remaining)
    SELECT account_id, v_hold_id, e.batch_id, e.entry_no, e.amount, e.amount
      FROM unnest(v_allocations) WITH ORDINALITY AS e(batch_id, amount, expires_at, entry_no);

    RETURN ROW(v_hold_id, amount, hold_until, v_allocations, NULL)::credits.hold;
END
$$;

------------------------------------------------------------------------------
-- capture_hold: src/holds.c (credits_capture_hold, finish_hold,
-- credits_close_hold, credits_mark_hold_closed), src/movement.c
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION bench_plpgsql.capture_hold(
    account_id bigint,
    hold_id bigint,
    amount numeric DEFAULT NULL,
    idempotency_key text DEFAULT NULL)
RETURNS credits.redemption
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    v_request text;
    v_prior record;
    v_hold record;
    v_capture numeric;
    v_now timestamptz;
    v_left numeric;
    v_take numeric;
    v_rest numeric;
    v_leaving numeric;
    v_gone credits.entry_kind;
    v_net numeric := 0;
    v_balance numeric;
    v_kinds credits.entry_kind[] := '{}';
    v_batch_ids bigint[] := '{}';
    v_deltas numeric[] := '{}';
    v_allocations credits.allocation[] := '{}';
    v_operation_id bigint;
    r record;
BEGIN
    IF account_id IS NULL THEN
        RAISE EXCEPTION 'argument "account_id" of capture_hold must not be null' USING ERRCODE = '22004';
    END IF;
    IF hold_id IS NULL THEN
        RAISE EXCEPTION 'argument "hold_id" of capture_hold must not be null' USING ERRCODE = '22004';
    END IF;
    IF amount IS NOT NULL THEN
        IF amount = 'NaN' THEN
            RAISE EXCEPTION 'amount must be a number, not NaN' USING ERRCODE = '22023';
        END IF;
        IF amount = 'Infinity' OR amount = '-Infinity' THEN
            RAISE EXCEPTION 'amount must be finite' USING ERRCODE = '22003';
        END IF;
        IF amount <= 0 THEN
            RAISE EXCEPTION 'amount must be greater than zero' USING ERRCODE = '22023',
                DETAIL = format('The value given is %s.', amount);
        END IF;
        IF amount >= 1000000000000000 THEN
            RAISE EXCEPTION 'amount is out of range' USING ERRCODE = '22003',
                DETAIL = 'Amounts of credits must be less than 1000000000000000.';
        END IF;
    END IF;

    v_request := 'capture_hold hold_id=' || hold_id::text
        || CASE WHEN amount IS NULL THEN '' ELSE ' amount=' || trim_scale(amount)::text END;

    PERFORM FROM credits.accounts AS a
     WHERE a.account_id = account_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', account_id USING ERRCODE = 'CR002',
            HINT = 'An account is created by its first grant.';
    END IF;

    -- a retry returns the first capture
    IF idempotency_key IS NOT NULL THEN
        SELECT o.operation_id, o.request, o.amount, o.membership_id,
               COALESCE(o.balance_after,
                        (SELECT l.balance_after FROM credits.ledger AS l
                          WHERE l.account_id = o.account_id AND l.operation_id = o.operation_id
                          ORDER BY l.entry_no DESC LIMIT 1)) AS balance_after
          INTO v_prior
          FROM credits.operations AS o
         WHERE o.account_id = account_id AND o.idempotency_key = idempotency_key;
        IF FOUND THEN
            IF v_prior.request <> v_request THEN
                RAISE EXCEPTION 'idempotency key "%" was already used for a different request', idempotency_key
                    USING ERRCODE = 'CR010',
                          DETAIL = format('The first request was: %s. This one is: %s.', v_prior.request, v_request),
                          HINT = 'Use a new key for a new request.';
            END IF;
            RETURN ROW(v_prior.operation_id, v_prior.amount, COALESCE(v_prior.balance_after, 0),
                       ARRAY(SELECT ROW(l.batch_id, -l.delta, b.expires_at)::credits.allocation
                               FROM credits.ledger AS l
                               JOIN credits.batches AS b
                                 ON b.account_id = l.account_id AND b.batch_id = l.batch_id
                              WHERE l.account_id = account_id AND l.operation_id = v_prior.operation_id
                                AND l.kind = 'redeem'
                              ORDER BY l.entry_no),
                       v_prior.membership_id)::credits.redemption;
        END IF;
    END IF;

    SELECT h.status, h.credit_type, h.service_id, h.amount, h.membership_id, h.quantity
      INTO v_hold
      FROM credits.holds AS h
     WHERE h.account_id = account_id AND h.hold_id = hold_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'hold % does not exist for account %', hold_id, account_id USING ERRCODE = 'CR012';
    END IF;
    IF v_hold.status <> 'open' THEN
        RAISE EXCEPTION 'hold % was already captured or released', hold_id USING ERRCODE = 'CR013',
            HINT = 'A retried capture with the same idempotency key returns the first capture.';
    END IF;
    v_capture := COALESCE(amount, v_hold.amount);
    IF v_capture > v_hold.amount THEN
        RAISE EXCEPTION 'cannot capture % credits from hold %', trim_scale(v_capture), hold_id
            USING ERRCODE = 'CR014', DETAIL = format('The hold holds %s.', trim_scale(v_hold.amount));
    END IF;

    -- spend from what the hold keeps, in the order it was drawn; the rest goes
    -- back, or leaves at once if its batch expired or was voided meanwhile
    v_now := clock_timestamp();
    v_left := v_capture;
    FOR r IN
        SELECT a.batch_id, a.remaining, b.expires_at, b.voided_at IS NOT NULL AS voided
          FROM credits.hold_allocations AS a
          JOIN credits.batches AS b ON b.account_id = a.account_id AND b.batch_id = a.batch_id
         WHERE a.account_id = account_id AND a.hold_id = hold_id AND a.remaining > 0
         ORDER BY a.entry_no
    LOOP
        v_take := LEAST(r.remaining, v_left);
        v_rest := r.remaining - v_take;
        v_leaving := v_take;
        IF v_take <> 0 THEN
            v_kinds := v_kinds || 'redeem'::credits.entry_kind;
            v_batch_ids := v_batch_ids || r.batch_id;
            v_deltas := v_deltas || -v_take;
            v_net := v_net - v_take;
            v_allocations := v_allocations || ROW(r.batch_id, v_take, r.expires_at)::credits.allocation;
            v_left := v_left - v_take;
        END IF;
        IF v_rest <> 0 THEN
            v_gone := CASE WHEN r.voided THEN 'void'::credits.entry_kind
                           WHEN r.expires_at <= v_now THEN 'expire'::credits.entry_kind END;
            IF v_gone IS NOT NULL THEN
                v_kinds := v_kinds || v_gone;
                v_batch_ids := v_batch_ids || r.batch_id;
                v_deltas := v_deltas || -v_rest;
                v_net := v_net - v_rest;
                v_leaving := v_leaving + v_rest;
            END IF;
        END IF;
        UPDATE credits.batches AS b
           SET remaining = b.remaining - v_leaving,
               held = b.held - r.remaining,
               is_open = b.remaining - v_leaving > b.held - r.remaining
         WHERE b.account_id = account_id AND b.batch_id = r.batch_id;
    END LOOP;
    IF v_left <> 0 THEN
        RAISE EXCEPTION 'hold % holds less than it should', hold_id USING ERRCODE = 'XX000';
    END IF;

    UPDATE credits.hold_allocations AS a
       SET remaining = 0
     WHERE a.account_id = account_id AND a.hold_id = hold_id AND a.remaining > 0;

    -- the running total, the closing operation, its ledger rows, the hold closed
    IF v_net <> 0 THEN
        UPDATE credits.account_totals AS t
           SET total = t.total + v_net
         WHERE t.account_id = account_id AND t.credit_type = v_hold.credit_type
        RETURNING t.total INTO v_balance;
    ELSE
        SELECT t.total INTO v_balance
          FROM credits.account_totals AS t
         WHERE t.account_id = account_id AND t.credit_type = v_hold.credit_type;
    END IF;
    v_balance := COALESCE(v_balance, 0);

    INSERT INTO credits.operations (account_id, operation_id, kind, idempotency_key, request,
                                    amount, credit_type, service_id, reference, created_at,
                                    hold_id, membership_id, balance_after)
    VALUES (account_id, nextval('credits.operation_id_seq'), 'capture_hold', idempotency_key,
            v_request, v_capture, v_hold.credit_type, v_hold.service_id, NULL, v_now,
            hold_id, v_hold.membership_id, v_balance)
    RETURNING operation_id INTO v_operation_id;

    IF cardinality(v_kinds) > 0 THEN
        INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id, credit_type,
                                    delta, balance_after, service_id, reference, created_at)
        SELECT account_id, v_operation_id, e.entry_no, e.kind, e.batch_id, v_hold.credit_type,
               e.delta, v_balance - v_net + sum(e.delta) OVER (ORDER BY e.entry_no),
               v_hold.service_id, NULL, v_now
          FROM unnest(v_kinds, v_batch_ids, v_deltas) WITH ORDINALITY AS e(kind, batch_id, delta, entry_no);
    END IF;

    UPDATE credits.holds AS h
       SET status = 'captured', captured = v_capture, released = h.amount - v_capture,
           closed_at = v_now, closed_by = v_operation_id
     WHERE h.account_id = account_id AND h.hold_id = hold_id;

    -- a membership hold records its visit
    IF v_hold.membership_id IS NOT NULL THEN
        INSERT INTO credits.membership_visits (account_id, operation_id, membership_id, service_id,
                                               quantity, reference, created_at)
        VALUES (account_id, v_operation_id, v_hold.membership_id, v_hold.service_id,
                COALESCE(v_hold.quantity, 1), NULL, v_now);
    END IF;

    RETURN ROW(v_operation_id, v_capture, v_balance, v_allocations, v_hold.membership_id)::credits.redemption;
END
$$;

------------------------------------------------------------------------------
-- Privileges and comments
------------------------------------------------------------------------------

REVOKE ALL ON FUNCTION bench_plpgsql.redeem_credits(bigint, numeric, text, bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION bench_plpgsql.grant_package(bigint, bigint, text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION bench_plpgsql.hold_credits(bigint, numeric, text, bigint, timestamptz, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION bench_plpgsql.capture_hold(bigint, bigint, numeric, text) FROM PUBLIC;

COMMENT ON FUNCTION bench_plpgsql.redeem_credits(bigint, numeric, text, bigint, text, text) IS
    'Benchmark baseline: credits.redeem_credits written in PL/pgSQL (same locks, checks and rows)';
COMMENT ON FUNCTION bench_plpgsql.grant_package(bigint, bigint, text, text, timestamptz) IS
    'Benchmark baseline: credits.grant_package for credit packages written in PL/pgSQL (same locks, checks and rows)';
COMMENT ON FUNCTION bench_plpgsql.hold_credits(bigint, numeric, text, bigint, timestamptz, text, text) IS
    'Benchmark baseline: credits.hold_credits written in PL/pgSQL (same locks, checks and rows)';
COMMENT ON FUNCTION bench_plpgsql.capture_hold(bigint, bigint, numeric, text) IS
    'Benchmark baseline: credits.capture_hold written in PL/pgSQL (same locks, checks and rows)';
