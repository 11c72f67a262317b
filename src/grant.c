/*-------------------------------------------------------------------------
 *
 * grant.c
 *	  credits.grant_package and credits.grant_credits: one new batch, its
 *	  grant ledger entry, the running total, the operation and (for a
 *	  package) the sale record, written through the table access method
 *	  (direct_grant.c) or, when the tables or the account need it, in one
 *	  statement.  Also the GUC credits.default_expiry that package expiry
 *	  falls back to.
 *
 * Locking
 *	  Arguments and the catalogue (packages, services, credit types) are
 *	  checked first, without locks.  Then the account row is locked FOR
 *	  UPDATE (created if missing), the idempotency key looked up, and the
 *	  running total, operation, batch, ledger entry and sale written.  The
 *	  new batch is not visible to anyone before commit, so nothing else is
 *	  locked.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "access/xact.h"

PG_FUNCTION_INFO_V1(credits_grant_package);
PG_FUNCTION_INFO_V1(credits_grant_credits);
PG_FUNCTION_INFO_V1(credits_refund_as_credits);

Interval	credits_default_expiry;


static CreditsStatement find_package = {
	.sql = "SELECT p.credit_type, p.credits, p.price, p.currency, p.country,"
	" p.expires_after, p.permanent, p.service_ids, p.active, p.name, p.membership_period"
	" FROM credits.packages AS p WHERE p.package_id = $1",
	.nargs = 1,
	.argtypes = {INT8OID}
};

enum
{
	PKG_CREDIT_TYPE, PKG_CREDITS, PKG_PRICE, PKG_CURRENCY, PKG_COUNTRY,
	PKG_EXPIRES_AFTER, PKG_PERMANENT, PKG_SERVICE_IDS, PKG_ACTIVE,
	PKG_NAME, PKG_MEMBERSHIP_PERIOD, PKG_COLUMN_COUNT
};

/* find_package's columns, in its order */
static const char *const package_columns[PKG_COLUMN_COUNT] = {
	"credit_type", "credits", "price", "currency", "country", "expires_after",
	"permanent", "service_ids", "active", "name", "membership_period"
};

static const Oid package_types[PKG_COLUMN_COUNT] = {
	TEXTOID, NUMERICOID, NUMERICOID, TEXTOID, TEXTOID, INTERVALOID,
	BOOLOID, INT8ARRAYOID, BOOLOID, TEXTOID, INTERVALOID
};

static DirectRead package_read = {
	.table_name = "packages", .key_column = "package_id",
	.names = package_columns, .types = package_types, .count = PKG_COLUMN_COUNT
};

static CreditsStatement find_granted_batch = {
	.sql = "SELECT l.batch_id FROM credits.ledger AS l"
	" WHERE l.account_id = $1 AND l.operation_id = $2 ORDER BY l.entry_no LIMIT 1",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

/*
 * $1 account, $2 credit type, $3 amount, $4 operation kind, $5 key,
 * $6 request, $7 source, $8 package, $9 valid_from, $10 expires_at,
 * $11 services, $12 reference, $13 now, $14 price, $15 currency,
 * $16 country.  The running total is written first, so that under
 * REPEATABLE READ a concurrent change to the account fails there with a
 * serialization error.
 */
static CreditsStatement write_grant = {
	.sql = "WITH total AS ("
	"  INSERT INTO credits.account_totals AS t (account_id, credit_type, total)"
	"  VALUES ($1, $2, $3)"
	"  ON CONFLICT (account_id, credit_type) DO UPDATE SET total = t.total + excluded.total"
	"  RETURNING t.total"
	"), operation AS ("
	"  INSERT INTO credits.operations (account_id, operation_id, kind, idempotency_key,"
	"    request, amount, credit_type, package_id, reference, created_at, balance_after)"
	"  SELECT $1, pg_catalog.nextval('credits.operation_id_seq'), $4::text::credits.operation_kind,"
	"    $5, $6, $3, $2, $8, $12, $13, total.total FROM total"
	"  RETURNING operation_id"
	"), batch AS ("
	"  INSERT INTO credits.batches (account_id, batch_id, credit_type, source, package_id,"
	"    amount, remaining, is_open, valid_from, expires_at, service_ids, reference,"
	"    operation_id, created_at)"
	"  SELECT $1, pg_catalog.nextval('credits.batch_id_seq'), $2, $7::text::credits.batch_source,"
	"    $8, $3, $3, true, $9, $10, $11, $12, operation.operation_id, $13 FROM operation"
	"  RETURNING batch_id, operation_id"
	"), entry AS ("
	"  INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,"
	"    credit_type, delta, balance_after, reference, created_at)"
	"  SELECT $1, batch.operation_id, 1, 'grant', batch.batch_id, $2, $3, total.total, $12, $13"
	"  FROM batch, total"
	"), sale AS ("
	"  INSERT INTO credits.sales (account_id, operation_id, package_id, batch_id, credits,"
	"    price, currency, country, payment_ref, sold_at)"
	"  SELECT $1, batch.operation_id, $8, batch.batch_id, $3, $14, $15, $16, $12, $13"
	"  FROM batch WHERE $8 IS NOT NULL"
	")"
	" SELECT batch_id FROM batch",
	.nargs = 16,
	.argtypes = {INT8OID, TEXTOID, NUMERICOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8ARRAYOID, TEXTOID,
	TIMESTAMPTZOID, NUMERICOID, TEXTOID, TEXTOID}
};

/*
 * A membership sold: $1 account, $2 operation (the membership id),
 * $3 package, $4 price, $5 currency, $6 country, $7 payment_ref, $8 now
 */
static CreditsStatement record_membership_sale = {
	.sql = "INSERT INTO credits.sales (account_id, operation_id, package_id, membership_id,"
	" price, currency, country, payment_ref, sold_at)"
	" VALUES ($1, $2, $3, $2, $4, $5, $6, $7, $8)",
	.nargs = 8,
	.argtypes = {INT8OID, INT8OID, INT8OID, NUMERICOID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID}
};

#define TEXT_OR_NULL(t) ((t) == NULL ? (Datum) 0 : PointerGetDatum(t))
#define NULL_FLAG(t) ((t) == NULL ? 'n' : ' ')

/*
 * Locks the account, replays a retried request, or writes the grant.
 * Returns the batch id.  Runs inside SPI_connect.
 */
static int64
credits_grant(CreditsGrant *grant)
{
	CreditsAccount account;
	CreditsPriorOperation prior;
	TimestampTz now;
	int64		batch_id;
	Datum		values[16];
	char		nulls[16];

	credits_lock_account(grant->account_id, true, &account);

	if (credits_find_prior_operation(grant->account_id, grant->idempotency_key,
									 grant->request, &prior))
	{
		Datum		keys[2] = {Int64GetDatum(grant->account_id),
		Int64GetDatum(prior.operation_id)};

		if (credits_execute(&find_granted_batch, keys, NULL, 1) == 0)
			elog(ERROR, "operation " INT64_FORMAT " has no ledger entry",
				 prior.operation_id);
		return credits_result_int64(0, 1);
	}

	credits_require_member(&account, "receive");

	if (grant->expires_in_local_time)
		grant->expires_at = credits_local_time_after(grant->valid_from, &grant->validity,
													 account.timezone);

	now = credits_now();
	if (credits_grant_directly(grant, now, &batch_id) == CREDITS_DIRECT_WRITTEN)
		return batch_id;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(grant->account_id);
	values[1] = PointerGetDatum(grant->credit_type);
	values[2] = NumericGetDatum(grant->amount);
	values[3] = CStringGetTextDatum(grant->kind);
	values[4] = TEXT_OR_NULL(grant->idempotency_key);
	nulls[4] = NULL_FLAG(grant->idempotency_key);
	values[5] = CStringGetTextDatum(grant->request);
	values[6] = CStringGetTextDatum(grant->source);
	values[7] = Int64GetDatum(grant->package_id);
	nulls[7] = grant->has_package ? ' ' : 'n';
	values[8] = TimestampTzGetDatum(grant->valid_from);
	values[9] = TimestampTzGetDatum(grant->expires_at);
	values[10] = PointerGetDatum(grant->service_ids);
	nulls[10] = grant->service_ids == NULL ? 'n' : ' ';
	values[11] = TEXT_OR_NULL(grant->reference);
	nulls[11] = NULL_FLAG(grant->reference);
	values[12] = TimestampTzGetDatum(now);
	values[13] = grant->has_package ? NumericGetDatum(grant->price) : (Datum) 0;
	nulls[13] = grant->has_package ? ' ' : 'n';
	values[14] = TEXT_OR_NULL(grant->currency);
	nulls[14] = NULL_FLAG(grant->currency);
	values[15] = TEXT_OR_NULL(grant->country);
	nulls[15] = NULL_FLAG(grant->country);

	if (credits_execute(&write_grant, values, nulls, 0) != 1)
		elog(ERROR, "grant wrote no batch");
	return credits_result_int64(0, 1);
}

/*
 * Services a batch is restricted to: NULL for all.  An empty list means
 * all as well; NULL elements are refused.
 */
static ArrayType *
credits_service_list(ArrayType *services)
{
	if (services == NULL)
		return NULL;
	if (ARR_NDIM(services) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("services must be a one-dimensional array")));
	if (array_contains_nulls(services))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("services must not contain null")));
	if (ArrayGetNItems(ARR_NDIM(services), ARR_DIMS(services)) == 0)
		return NULL;
	return services;
}

/*
 * Sells a membership package: under the account lock, a retry returns the
 * first membership; otherwise an operation (whose id is the membership's),
 * the membership, stacked after the account's current one of the same
 * package, and the sale.  Returns the membership id.
 */
static int64
credits_grant_membership(CreditsGrant *grant, const Interval *period)
{
	CreditsAccount account;
	CreditsPriorOperation prior;
	CreditsMovement movement;
	CreditsOperation operation = {0};
	TimestampTz now;
	int64		membership_id;
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	credits_lock_account(grant->account_id, true, &account);
	if (credits_find_prior_operation(grant->account_id, grant->idempotency_key,
									 grant->request, &prior))
		return prior.operation_id;
	credits_require_member(&account, "receive");

	now = credits_now();
	credits_movement_start(&movement, grant->account_id, NULL, credits_numeric_zero(), now);
	operation.kind = grant->kind;
	operation.idempotency_key = grant->idempotency_key;
	operation.request = grant->request;
	operation.amount = credits_numeric_zero();
	operation.reference = grant->payment_ref;
	membership_id = credits_movement_finish(&movement, &operation);

	credits_start_membership(grant->account_id, membership_id, grant->package_id,
							 grant->valid_from, period, account.timezone,
							 grant->service_ids, now);

	values[0] = Int64GetDatum(grant->account_id);
	values[1] = Int64GetDatum(membership_id);
	values[2] = Int64GetDatum(grant->package_id);
	values[3] = NumericGetDatum(grant->price);
	values[4] = PointerGetDatum(grant->currency);
	values[5] = PointerGetDatum(grant->country);
	nulls[5] = grant->country ? ' ' : 'n';
	values[6] = PointerGetDatum(grant->payment_ref);
	nulls[6] = grant->payment_ref ? ' ' : 'n';
	values[7] = TimestampTzGetDatum(now);
	credits_execute(&record_membership_sale, values, nulls, 0);
	return membership_id;
}

Datum
credits_grant_package(PG_FUNCTION_ARGS)
{
	CreditsGrant grant = {0};
	StringInfoData request;
	Datum		package[PKG_COLUMN_COUNT];
	bool		isnull[PKG_COLUMN_COUNT];
	int64		batch_id;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "package_id");
	credits_require_arg(fcinfo, 4, "granted_at");

	grant.account_id = PG_GETARG_INT64(0);
	grant.package_id = PG_GETARG_INT64(1);
	grant.has_package = true;
	grant.idempotency_key = credits_optional_text(fcinfo, 2);
	grant.payment_ref = credits_optional_text(fcinfo, 3);
	grant.reference = grant.payment_ref;
	grant.valid_from = PG_GETARG_TIMESTAMPTZ(4);
	credits_check_finite_time(grant.valid_from, "granted_at");
	grant.kind = "grant_package";
	grant.source = "purchase";

	credits_request_start(&request, "grant_package");
	credits_request_add_int64(&request, "package_id", false, grant.package_id);
	credits_request_add_text(&request, "payment_ref", grant.payment_ref);
	credits_request_add_time(&request, "granted_at", grant.valid_from);
	grant.request = request.data;

	SPI_connect();

	if (!direct_read_or_select(&package_read, &find_package, grant.package_id, package, isnull))
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_UNKNOWN_PACKAGE),
				 errmsg("package " INT64_FORMAT " does not exist", grant.package_id)));
	if (!DatumGetBool(package[PKG_ACTIVE]))
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_INACTIVE_PACKAGE),
				 errmsg("package " INT64_FORMAT " (%s) is not active", grant.package_id,
						TextDatumGetCString(package[PKG_NAME])),
				 errhint("Set credits.packages.active to true to sell it again.")));

	grant.credit_type = DatumGetTextPP(package[PKG_CREDIT_TYPE]);
	grant.price = DatumGetNumeric(package[PKG_PRICE]);
	grant.currency = DatumGetTextPP(package[PKG_CURRENCY]);
	grant.country = isnull[PKG_COUNTRY] ? NULL : DatumGetTextPP(package[PKG_COUNTRY]);
	grant.service_ids = isnull[PKG_SERVICE_IDS] ? NULL :
		credits_service_list(DatumGetArrayTypeP(package[PKG_SERVICE_IDS]));

	if (!isnull[PKG_MEMBERSHIP_PERIOD])
	{
		/* a membership package: a period of access, no credits */
		batch_id = credits_grant_membership(&grant,
											DatumGetIntervalP(package[PKG_MEMBERSHIP_PERIOD]));
		SPI_finish();
		PG_RETURN_INT64(batch_id);
	}
	grant.amount = DatumGetNumeric(package[PKG_CREDITS]);

	if (DatumGetBool(package[PKG_PERMANENT]))
		grant.expires_at = DT_NOEND;
	else
	{
		/* computed once the account, and so its time zone, is locked */
		grant.expires_in_local_time = true;
		grant.validity = isnull[PKG_EXPIRES_AFTER] ? credits_default_expiry :
			*DatumGetIntervalP(package[PKG_EXPIRES_AFTER]);
	}

	batch_id = credits_grant(&grant);

	SPI_finish();
	PG_RETURN_INT64(batch_id);
}

static const char *const batch_sources[] = {"purchase", "subscription", "manual"};

Datum
credits_grant_credits(PG_FUNCTION_ARGS)
{
	CreditsGrant grant = {0};
	StringInfoData request;
	char	   *source;
	int64		batch_id;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "amount");
	credits_require_arg(fcinfo, 2, "expires_at");
	credits_require_arg(fcinfo, 3, "valid_from");
	credits_require_arg(fcinfo, 4, "credit_type");
	credits_require_arg(fcinfo, 6, "source");

	grant.account_id = PG_GETARG_INT64(0);
	grant.amount = credits_checked_amount(PG_GETARG_NUMERIC(1), "amount");
	grant.expires_at = PG_GETARG_TIMESTAMPTZ(2);
	grant.valid_from = PG_GETARG_TIMESTAMPTZ(3);
	grant.credit_type = PG_GETARG_TEXT_PP(4);
	grant.service_ids = PG_ARGISNULL(5) ? NULL :
		credits_service_list(PG_GETARG_ARRAYTYPE_P(5));
	grant.reference = credits_optional_text(fcinfo, 7);
	grant.idempotency_key = credits_optional_text(fcinfo, 8);
	grant.kind = "grant_credits";

	credits_check_finite_time(grant.valid_from, "valid_from");
	if (TIMESTAMP_IS_NOBEGIN(grant.expires_at) || grant.expires_at <= grant.valid_from)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expires_at must be later than valid_from")));

	source = text_to_cstring(PG_GETARG_TEXT_PP(6));
	for (size_t i = 0; i < lengthof(batch_sources); i++)
		if (strcmp(source, batch_sources[i]) == 0)
			grant.source = batch_sources[i];
	if (grant.source == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a source of credits", source),
				 errhint("Use purchase, subscription or manual.")));

	credits_request_start(&request, "grant_credits");
	credits_request_add_numeric(&request, "amount", grant.amount);
	credits_request_add_time(&request, "expires_at", grant.expires_at);
	credits_request_add_time(&request, "valid_from", grant.valid_from);
	credits_request_add_text(&request, "credit_type", grant.credit_type);
	credits_request_add_int64_array(&request, "services", grant.service_ids);
	credits_request_add_text(&request, "source", PG_GETARG_TEXT_PP(6));
	credits_request_add_text(&request, "reference", grant.reference);
	grant.request = request.data;

	SPI_connect();

	credits_require_credit_type(grant.credit_type);
	credits_require_services(grant.service_ids);

	batch_id = credits_grant(&grant);

	SPI_finish();
	PG_RETURN_INT64(batch_id);
}

/*
 * Credits instead of a money refund: a permanent batch with source refund
 * and the reason as its reference.  Returns the batch id.
 */
Datum
credits_refund_as_credits(PG_FUNCTION_ARGS)
{
	CreditsGrant grant = {0};
	StringInfoData request;
	int64		batch_id;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "amount");
	credits_require_arg(fcinfo, 2, "reason");
	credits_require_arg(fcinfo, 3, "credit_type");
	grant.account_id = PG_GETARG_INT64(0);
	grant.amount = credits_checked_amount(PG_GETARG_NUMERIC(1), "amount");
	grant.reference = PG_GETARG_TEXT_PP(2);
	grant.credit_type = PG_GETARG_TEXT_PP(3);
	grant.idempotency_key = credits_optional_text(fcinfo, 4);
	grant.kind = "refund_as_credits";
	grant.source = "refund";
	grant.valid_from = GetCurrentTransactionStartTimestamp();
	grant.expires_at = DT_NOEND;

	credits_request_start(&request, grant.kind);
	credits_request_add_numeric(&request, "amount", grant.amount);
	credits_request_add_text(&request, "reason", grant.reference);
	credits_request_add_text(&request, "credit_type", grant.credit_type);
	grant.request = request.data;

	SPI_connect();
	credits_require_credit_type(grant.credit_type);
	batch_id = credits_grant(&grant);
	SPI_finish();
	PG_RETURN_INT64(batch_id);
}

/*
 * GUC credits.default_expiry: parsed here, without raising errors, into
 * an Interval that must be positive.
 */
bool
credits_check_default_expiry(char **newval, void **extra, GucSource source)
{
	char		workbuf[256];
	char	   *fields[MAXDATEFIELDS];
	int			field_types[MAXDATEFIELDS];
	int			field_count;
	int			dtype;
	struct pg_itm_in itm;
	Interval	parsed;
	Interval	zero = {0};
	Interval   *result;
	int			dterr;

	(void) source;
	dterr = ParseDateTime(*newval, workbuf, sizeof(workbuf), fields, field_types,
						  MAXDATEFIELDS, &field_count);
	if (dterr == 0)
		dterr = DecodeInterval(fields, field_types, field_count, INTERVAL_FULL_RANGE,
							   &dtype, &itm);
	if (dterr == DTERR_BAD_FORMAT)
		dterr = DecodeISO8601Interval(*newval, &dtype, &itm);
	if (dterr != 0 || dtype != DTK_DELTA || itmin2interval(&itm, &parsed) != 0)
	{
		GUC_check_errdetail("\"%s\" is not an interval.", *newval);
		return false;
	}
	if (!DatumGetBool(DirectFunctionCall2(interval_gt, IntervalPGetDatum(&parsed),
										  IntervalPGetDatum(&zero))))
	{
		GUC_check_errdetail("The default expiry must be a positive interval.");
		return false;
	}

	/* PostgreSQL 15 releases a GUC's extra with free() */
	result = malloc(sizeof(Interval));
	if (result == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		return false;
	}
	*result = parsed;
	*extra = result;
	return true;
}

void
credits_assign_default_expiry(const char *newval, void *extra)
{
	(void) newval;
	credits_default_expiry = *(Interval *) extra;
}
