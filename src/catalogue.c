/*-------------------------------------------------------------------------
 *
 * catalogue.c
 *	  Lookups in the catalogue an administrator edits: services and credit
 *	  types, with the errors for unknown ones.
 *
 * Locking
 *	  None: the catalogue is read with the statement's snapshot.  A service
 *	  edited while a redemption runs is charged at the price it read.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

static CreditsStatement find_service = {
	.sql = "SELECT s.accepts_credits, s.credit_cost, s.credit_type, s.name"
	" FROM credits.services AS s WHERE s.service_id = $1",
	.nargs = 1,
	.argtypes = {INT8OID}
};

static CreditsStatement find_credit_type = {
	.sql = "SELECT 1 FROM credits.credit_types AS t WHERE t.credit_type = $1",
	.nargs = 1,
	.argtypes = {TEXTOID}
};

static CreditsStatement find_missing_service = {
	.sql = "SELECT s.id FROM pg_catalog.unnest($1::bigint[]) AS s(id)"
	" WHERE NOT EXISTS (SELECT 1 FROM credits.services AS v WHERE v.service_id = s.id)"
	" LIMIT 1",
	.nargs = 1,
	.argtypes = {INT8ARRAYOID}
};

static void
report_unknown_service(int64 service_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_CREDITS_UNKNOWN_SERVICE),
			 errmsg("service " INT64_FORMAT " does not exist", service_id)));
}

/*
 * Reads a service (CR005 if there is none).  The values live until
 * SPI_finish.
 */
void
credits_find_service(int64 service_id, CreditsService *service)
{
	Datum		key[1] = {Int64GetDatum(service_id)};
	bool		isnull;

	if (credits_execute(&find_service, key, NULL, 1) == 0)
		report_unknown_service(service_id);

	service->service_id = service_id;
	service->accepts_credits = DatumGetBool(credits_result_datum(0, 1, &isnull));
	service->credit_cost = credits_result_numeric(0, 2);
	service->credit_type = DatumGetTextPP(credits_result_datum(0, 3, &isnull));
	service->name = TextDatumGetCString(credits_result_datum(0, 4, &isnull));
}

static void
require_accepts_credits(const CreditsService *service)
{
	if (!service->accepts_credits)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_SERVICE_REFUSES_CREDITS),
				 errmsg("service " INT64_FORMAT " (%s) does not accept credits",
						service->service_id, service->name),
				 errhint("Set credits.services.accepts_credits to true to allow it.")));
}

void
credits_require_credit_type(text *credit_type)
{
	Datum		key[1] = {PointerGetDatum(credit_type)};

	if (credits_execute(&find_credit_type, key, NULL, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_UNKNOWN_CREDIT_TYPE),
				 errmsg("credit type \"%s\" does not exist",
						text_to_cstring(credit_type)),
				 errhint("Credit types are listed in credits.credit_types.")));
}

/*
 * CR005 for the first listed service that does not exist.
 */
void
credits_require_services(ArrayType *service_ids)
{
	Datum		key[1] = {PointerGetDatum(service_ids)};

	if (service_ids != NULL && credits_execute(&find_missing_service, key, NULL, 1) > 0)
		report_unknown_service(credits_result_int64(0, 1));
}

/*
 * What quantity units of a service cost: credit_cost times quantity,
 * refused (22003) when it reaches the amount limit.
 */
Numeric
credits_service_charge(const CreditsService *service, int32 quantity)
{
	Numeric		charge;

	charge = DatumGetNumeric(DirectFunctionCall2(numeric_mul,
												 NumericGetDatum(service->credit_cost),
												 NumericGetDatum(int64_to_numeric(quantity))));
	return credits_checked_amount(charge, "credit_cost times quantity");
}

/*
 * Quantities of a service must be at least one.
 */
void
credits_check_quantity(int32 quantity)
{
	if (quantity < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantity must be at least 1"),
				 errdetail("The value given is %d.", quantity)));
}

/*
 * redeem_credits and hold_credits for a service must ask for the service's
 * credit type (22023 otherwise).
 */
static void
require_same_credit_type(const CreditsService *service, text *credit_type)
{
	char	   *service_type = text_to_cstring(service->credit_type);
	char	   *asked_type = text_to_cstring(credit_type);

	if (strcmp(service_type, asked_type) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("service " INT64_FORMAT " is paid in credit type \"%s\", not \"%s\"",
						service->service_id, service_type, asked_type)));
}

/*
 * A service a caller names next to a credit type (redeem_credits,
 * hold_credits): it must exist, accept credits and be paid in that type.
 */
void
credits_check_service_for(int64 service_id, text *credit_type)
{
	CreditsService service;

	credits_find_service(service_id, &service);
	require_accepts_credits(&service);
	require_same_credit_type(&service, credit_type);
}

/*
 * What booking quantity units of a service costs, in which credit type
 * (redeem_service, hold_service): it must exist and accept credits.
 */
Numeric
credits_price_service(int64 service_id, int32 quantity, text **credit_type)
{
	CreditsService service;

	credits_find_service(service_id, &service);
	require_accepts_credits(&service);
	*credit_type = service.credit_type;
	return credits_service_charge(&service, quantity);
}
