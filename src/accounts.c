/*-------------------------------------------------------------------------
 *
 * accounts.c
 *	  The per-account lock that serializes every change to an account, and
 *	  the creation of a missing account by a grant.
 *
 * Locking
 *	  Every write path calls credits_lock_account first, before it reads
 *	  any batch: SELECT ... FROM credits.accounts ... FOR UPDATE on the one
 *	  account row it acts on, or the same lock taken through the table
 *	  access method (direct_read.c).  It takes no other lock before this one, so
 *	  two calls on one account queue on this row and never deadlock with
 *	  each other.  expire_batches takes the same row lock with SKIP LOCKED
 *	  (expire.c), so it never waits.  The caller runs its reads as separate
 *	  statements afterwards, so that under READ COMMITTED they see what the
 *	  transaction it waited for committed.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"

static CreditsStatement lock_account = {
	.sql = "SELECT a.is_member, a.timezone FROM credits.accounts AS a"
	" WHERE a.account_id = $1 FOR UPDATE",
	.nargs = 1,
	.argtypes = {INT8OID}
};

static const char *const account_columns[] = {"is_member", "timezone"};
static const Oid account_types[] = {BOOLOID, TEXTOID};

static DirectRead account_locked = {
	.table_name = "accounts", .key_column = "account_id",
	.lock_row = true, .names = account_columns, .types = account_types, .count = 2
};

static CreditsStatement create_account = {
	.sql = "INSERT INTO credits.accounts (account_id) VALUES ($1)"
	" ON CONFLICT (account_id) DO NOTHING",
	.nargs = 1,
	.argtypes = {INT8OID}
};

/*
 * Locks the account's row until the end of the transaction.  If it does
 * not exist, creates it (a member, time zone UTC) when create_missing is
 * set, or raises CR002.  Must be called inside SPI_connect.
 */
void
credits_lock_account(int64 account_id, bool create_missing,
					 CreditsAccount *account)
{
	Datum		key[1] = {Int64GetDatum(account_id)};
	Datum		values[2];
	bool		nulls[2];

	if (!direct_read_or_select(&account_locked, &lock_account, account_id, values, nulls))
	{
		if (!create_missing)
			ereport(ERROR,
					(errcode(ERRCODE_CREDITS_UNKNOWN_ACCOUNT),
					 errmsg("account " INT64_FORMAT " does not exist", account_id),
					 errhint("An account is created by its first grant.")));
		credits_execute(&create_account, key, NULL, 0);
		if (!direct_read_or_select(&account_locked, &lock_account, account_id, values, nulls))
			elog(ERROR, "account " INT64_FORMAT " vanished after it was created",
				 account_id);
	}

	account->account_id = account_id;
	account->is_member = DatumGetBool(values[0]);
	account->timezone = TextDatumGetCString(values[1]);
}

/*
 * Non-members keep their batches but can neither receive nor spend.
 */
void
credits_require_member(const CreditsAccount *account, const char *action)
{
	if (!account->is_member)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_NOT_A_MEMBER),
				 errmsg("account " INT64_FORMAT " is not a member", account->account_id),
				 errdetail("Only members can %s credits; the account's batches are kept.",
						   action)));
}
