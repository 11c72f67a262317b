/*-------------------------------------------------------------------------
 *
 * balance.c
 *	  credits.balance and credits.can_redeem: what an account can spend
 *	  now, by the same rule redemption draws by (CREDITS_SPENDABLE_BATCH).
 *
 * Locking
 *	  None.  Both read with the statement's snapshot, so an answer can be
 *	  overtaken by a concurrent redemption: a redemption is the only
 *	  check that holds.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(credits_balance);
PG_FUNCTION_INFO_V1(credits_can_redeem);

static CreditsStatement spendable_sum = {
	.sql = "SELECT COALESCE(pg_catalog.sum(b.remaining - b.held), 0)"
	" FROM credits.batches AS b"
	" WHERE " CREDITS_SPENDABLE_BATCH
	" AND EXISTS (SELECT 1 FROM credits.accounts AS a"
	"             WHERE a.account_id = $1 AND a.is_member)",
	.nargs = 4,
	.argtypes = {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID}
};

/*
 * Credits the account can spend at that moment, for that service or (with
 * no service) from batches not restricted to services; zero for a
 * non-member or an unknown account.  Runs inside SPI_connect; the result
 * lives until SPI_finish.
 */
static Numeric
credits_spendable(int64 account_id, text *credit_type, bool has_service,
				  int64 service_id, TimestampTz at)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(account_id);
	values[1] = PointerGetDatum(credit_type);
	values[2] = Int64GetDatum(service_id);
	nulls[2] = has_service ? ' ' : 'n';
	values[3] = TimestampTzGetDatum(at);
	credits_execute(&spendable_sum, values, nulls, 1);
	return credits_result_numeric(0, 1);
}

Datum
credits_balance(PG_FUNCTION_ARGS)
{
	int64		account_id;
	text	   *credit_type;
	bool		has_service;
	int64		service_id;
	Numeric		spendable;
	Datum		result;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "credit_type");
	account_id = PG_GETARG_INT64(0);
	credit_type = PG_GETARG_TEXT_PP(1);
	has_service = !PG_ARGISNULL(2);
	service_id = has_service ? PG_GETARG_INT64(2) : 0;

	SPI_connect();
	credits_require_credit_type(credit_type);
	if (has_service)
	{
		CreditsService service;

		credits_find_service(service_id, &service);
	}
	spendable = credits_spendable(account_id, credit_type, has_service, service_id,
								  credits_now());
	result = SPI_datumTransfer(NumericGetDatum(spendable), false, -1);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

Datum
credits_can_redeem(PG_FUNCTION_ARGS)
{
	CreditsService service;
	int64		account_id;
	int32		quantity;
	bool		covered = false;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "service_id");
	credits_require_arg(fcinfo, 2, "quantity");
	account_id = PG_GETARG_INT64(0);
	quantity = PG_GETARG_INT32(2);
	credits_check_quantity(quantity);

	SPI_connect();
	credits_find_service(PG_GETARG_INT64(1), &service);
	if (service.accepts_credits)
	{
		Numeric		charge = credits_service_charge(&service, quantity);
		Numeric		spendable = credits_spendable(account_id, service.credit_type,
												  true, service.service_id,
												  credits_now());

		covered = credits_numeric_cmp(spendable, charge) >= 0;
	}
	SPI_finish();
	PG_RETURN_BOOL(covered);
}
