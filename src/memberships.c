/*-------------------------------------------------------------------------
 *
 * memberships.c
 *	  Memberships: a period of access to a package's services with no
 *	  consumption tracked.  Starting one (from grant_package), finding the
 *	  one that pays for a service, recording a visit against it,
 *	  credits.has_access and credits.end_membership.
 *
 * Locking
 *	  Starting, ending and using a membership happen under the account's
 *	  row lock (accounts.c), taken by the calling write path, so renewals
 *	  stack on what is committed and a membership ended concurrently is
 *	  not used.  credits.has_access takes no lock.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(credits_has_access);
PG_FUNCTION_INFO_V1(credits_end_membership);

/*
 * A membership that gives access to a service at a moment: $1 account,
 * $2 service, $3 moment.  The one ending first pays.
 */
static CreditsStatement active_membership = {
	.sql = "SELECT m.membership_id FROM credits.memberships AS m"
	" WHERE m.account_id = $1 AND m.starts_at <= $3"
	" AND COALESCE(m.ended_at, m.ends_at) > $3"
	" AND (m.service_ids IS NULL OR $2 = ANY (m.service_ids))"
	" ORDER BY COALESCE(m.ended_at, m.ends_at), m.membership_id"
	" LIMIT 1",
	.nargs = 3,
	.argtypes = {INT8OID, INT8OID, TIMESTAMPTZOID}
};

static CreditsStatement record_visit = {
	.sql = "INSERT INTO credits.membership_visits (account_id, operation_id, membership_id,"
	" service_id, quantity, reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	.nargs = 7,
	.argtypes = {INT8OID, INT8OID, INT8OID, INT8OID, INT4OID, TEXTOID, TIMESTAMPTZOID}
};

/* When the account's latest membership of the package ends, if after $3 */
static CreditsStatement latest_end = {
	.sql = "SELECT pg_catalog.max(COALESCE(m.ended_at, m.ends_at)) FROM credits.memberships AS m"
	" WHERE m.account_id = $1 AND m.package_id = $2 AND COALESCE(m.ended_at, m.ends_at) > $3",
	.nargs = 3,
	.argtypes = {INT8OID, INT8OID, TIMESTAMPTZOID}
};

static CreditsStatement insert_membership = {
	.sql = "INSERT INTO credits.memberships (account_id, membership_id, package_id,"
	" starts_at, ends_at, service_ids, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	.nargs = 7,
	.argtypes = {INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	INT8ARRAYOID, TIMESTAMPTZOID}
};

static CreditsStatement find_membership = {
	.sql = "SELECT m.starts_at, m.ends_at, m.ended_at FROM credits.memberships AS m"
	" WHERE m.account_id = $1 AND m.membership_id = $2",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

static CreditsStatement end_membership = {
	.sql = "UPDATE credits.memberships SET ended_at = $3"
	" WHERE account_id = $1 AND membership_id = $2",
	.nargs = 3,
	.argtypes = {INT8OID, INT8OID, TIMESTAMPTZOID}
};

static CreditsStatement is_member = {
	.sql = "SELECT a.is_member FROM credits.accounts AS a WHERE a.account_id = $1",
	.nargs = 1,
	.argtypes = {INT8OID}
};

/*
 * The membership that pays for the service at that moment, or 0.
 */
int64
credits_find_active_membership(int64 account_id, int64 service_id, TimestampTz at)
{
	Datum		values[3];

	values[0] = Int64GetDatum(account_id);
	values[1] = Int64GetDatum(service_id);
	values[2] = TimestampTzGetDatum(at);
	if (credits_execute(&active_membership, values, NULL, 1) == 0)
		return 0;
	return credits_result_int64(0, 1);
}

void
credits_record_visit(int64 account_id, int64 operation_id, int64 membership_id,
					 int64 service_id, int32 quantity, text *reference, TimestampTz now)
{
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(account_id);
	values[1] = Int64GetDatum(operation_id);
	values[2] = Int64GetDatum(membership_id);
	values[3] = Int64GetDatum(service_id);
	values[4] = Int32GetDatum(quantity);
	values[5] = PointerGetDatum(reference);
	nulls[5] = reference ? ' ' : 'n';
	values[6] = TimestampTzGetDatum(now);
	credits_execute(&record_visit, values, nulls, 0);
}

/*
 * Starts a membership of the package for the account, under its lock:
 * at granted_at, or when the account's latest membership of the same
 * package ends if that is later, so renewals stack.  It lasts the
 * package's period, counted in the account's time zone.
 */
void
credits_start_membership(int64 account_id, int64 membership_id, int64 package_id,
						 TimestampTz granted_at, const Interval *period,
						 const char *timezone, ArrayType *service_ids,
						 TimestampTz now)
{
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	TimestampTz starts_at = granted_at;
	bool		isnull;
	Datum		latest;

	values[0] = Int64GetDatum(account_id);
	values[1] = Int64GetDatum(package_id);
	values[2] = TimestampTzGetDatum(granted_at);
	credits_execute(&latest_end, values, NULL, 1);
	latest = credits_result_datum(0, 1, &isnull);
	if (!isnull)
		starts_at = DatumGetTimestampTz(latest);

	values[0] = Int64GetDatum(account_id);
	values[1] = Int64GetDatum(membership_id);
	values[2] = Int64GetDatum(package_id);
	values[3] = TimestampTzGetDatum(starts_at);
	values[4] = TimestampTzGetDatum(credits_local_time_after(starts_at, period, timezone));
	values[5] = PointerGetDatum(service_ids);
	nulls[5] = service_ids ? ' ' : 'n';
	values[6] = TimestampTzGetDatum(now);
	credits_execute(&insert_membership, values, nulls, 0);
}

Datum
credits_has_access(PG_FUNCTION_ARGS)
{
	int64		account_id;
	int64		service_id;
	CreditsService service;
	Datum		key[1];
	bool		access = false;
	bool		isnull;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "service_id");
	credits_require_arg(fcinfo, 2, "at");
	account_id = PG_GETARG_INT64(0);
	service_id = PG_GETARG_INT64(1);

	SPI_connect();
	credits_find_service(service_id, &service);
	key[0] = Int64GetDatum(account_id);
	if (credits_execute(&is_member, key, NULL, 1) == 1 &&
		DatumGetBool(credits_result_datum(0, 1, &isnull)))
		access = credits_find_active_membership(account_id, service_id,
												PG_GETARG_TIMESTAMPTZ(2)) != 0;
	SPI_finish();
	PG_RETURN_BOOL(access);
}

/*
 * Ends a membership early.  Ending one that has not started yet means it
 * never starts (ended_at = starts_at); one already over is refused.
 * Returns when it ends.
 */
Datum
credits_end_membership(PG_FUNCTION_ARGS)
{
	CreditsAccount account;
	CreditsMovement movement;
	CreditsOperation operation = {0};
	StringInfoData request;
	int64		account_id;
	int64		membership_id;
	TimestampTz ended_at;
	TimestampTz starts_at;
	TimestampTz ends_at;
	Datum		values[3];
	bool		isnull;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "membership_id");
	credits_require_arg(fcinfo, 2, "ended_at");
	account_id = PG_GETARG_INT64(0);
	membership_id = PG_GETARG_INT64(1);
	ended_at = PG_GETARG_TIMESTAMPTZ(2);
	credits_check_finite_time(ended_at, "ended_at");

	SPI_connect();
	credits_lock_account(account_id, false, &account);

	values[0] = Int64GetDatum(account_id);
	values[1] = Int64GetDatum(membership_id);
	if (credits_execute(&find_membership, values, NULL, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_UNKNOWN_MEMBERSHIP),
				 errmsg("membership " INT64_FORMAT " does not exist for account " INT64_FORMAT,
						membership_id, account_id)));
	starts_at = DatumGetTimestampTz(credits_result_datum(0, 1, &isnull));
	ends_at = DatumGetTimestampTz(credits_result_datum(0, 2, &isnull));
	credits_result_datum(0, 3, &isnull);
	if (!isnull)
		ends_at = DatumGetTimestampTz(credits_result_datum(0, 3, &isnull));
	if (ended_at >= ends_at)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_MEMBERSHIP_OVER),
				 errmsg("membership " INT64_FORMAT " is already over by then", membership_id),
				 errdetail("It ends at %s.",
						   DatumGetCString(DirectFunctionCall1(timestamptz_out,
															   TimestampTzGetDatum(ends_at))))));
	if (ended_at < starts_at)
		ended_at = starts_at;

	values[2] = TimestampTzGetDatum(ended_at);
	credits_execute(&end_membership, values, NULL, 0);

	/* the operation records who ended it and when; no credits move */
	credits_request_start(&request, "end_membership");
	credits_request_add_int64(&request, "membership_id", false, membership_id);
	operation.kind = "end_membership";
	operation.request = request.data;
	operation.amount = credits_numeric_zero();
	operation.membership_id = membership_id;
	credits_movement_start(&movement, account_id, NULL, credits_numeric_zero(), credits_now());
	credits_movement_finish(&movement, &operation);

	SPI_finish();
	PG_RETURN_TIMESTAMPTZ(ended_at);
}
