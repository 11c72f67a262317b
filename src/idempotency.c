/*-------------------------------------------------------------------------
 *
 * idempotency.c
 *	  Finds the earlier operation that used an idempotency key on an
 *	  account, and refuses a key reused for a different request.
 *
 * Locking
 *	  Called with the account row already locked (accounts.c), so a
 *	  concurrent call with the same key has either committed, and its
 *	  operation is found here, or not started its writes yet.  The unique
 *	  index operations_idempotency_key_idx backs this up.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"

static CreditsStatement find_operation = {
	.sql = "SELECT o.operation_id, o.request, o.amount, o.membership_id,"
	" COALESCE(o.balance_after, (SELECT l.balance_after FROM credits.ledger AS l"
	"   WHERE l.account_id = o.account_id AND l.operation_id = o.operation_id"
	"   ORDER BY l.entry_no DESC LIMIT 1))"
	" FROM credits.operations AS o"
	" WHERE o.account_id = $1 AND o.idempotency_key = $2",
	.nargs = 2,
	.argtypes = {INT8OID, TEXTOID}
};

/*
 * True, with the operation, if the key was used before on this account
 * for the same request; raises CR010 if it was used for another request;
 * false if it is new (or NULL).
 */
bool
credits_find_prior_operation(int64 account_id, text *idempotency_key,
							 const char *request, CreditsPriorOperation *prior)
{
	Datum		values[2];
	bool		isnull;
	char	   *prior_request;

	if (idempotency_key == NULL)
		return false;

	values[0] = Int64GetDatum(account_id);
	values[1] = PointerGetDatum(idempotency_key);
	if (credits_execute(&find_operation, values, NULL, 1) == 0)
		return false;

	prior_request = TextDatumGetCString(credits_result_datum(0, 2, &isnull));
	if (strcmp(prior_request, request) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_IDEMPOTENCY_MISMATCH),
				 errmsg("idempotency key \"%s\" was already used for a different request",
						text_to_cstring(idempotency_key)),
				 errdetail("The first request was: %s. This one is: %s.",
						   prior_request, request),
				 errhint("Use a new key for a new request.")));

	prior->operation_id = credits_result_int64(0, 1);
	prior->amount = credits_result_numeric(0, 3);
	{
		Datum		field = credits_result_datum(0, 4, &isnull);

		prior->membership_id = isnull ? 0 : DatumGetInt64(field);
		field = credits_result_datum(0, 5, &isnull);
		prior->balance_after = isnull ? credits_numeric_zero() : DatumGetNumeric(field);
	}
	return true;
}
