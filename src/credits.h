/*-------------------------------------------------------------------------
 *
 * credits.h
 *	  Declarations shared by the C files of the credits extension: error
 *	  codes, the saved-statement helper, argument checks, request
 *	  fingerprints, the per-account lock and the result types.
 *
 * Every write path follows one protocol, described in README.md under
 * "Concurrency and locking": lock the account row, read what it needs
 * with a fresh snapshot, then make every change in one statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CREDITS_H
#define CREDITS_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

/* SQLSTATEs of our own, class CR; README.md lists them with the standard ones */
#define ERRCODE_CREDITS_INSUFFICIENT			MAKE_SQLSTATE('C','R','0','0','1')
#define ERRCODE_CREDITS_UNKNOWN_ACCOUNT			MAKE_SQLSTATE('C','R','0','0','2')
#define ERRCODE_CREDITS_UNKNOWN_PACKAGE			MAKE_SQLSTATE('C','R','0','0','3')
#define ERRCODE_CREDITS_INACTIVE_PACKAGE		MAKE_SQLSTATE('C','R','0','0','4')
#define ERRCODE_CREDITS_UNKNOWN_SERVICE			MAKE_SQLSTATE('C','R','0','0','5')
#define ERRCODE_CREDITS_SERVICE_REFUSES_CREDITS	MAKE_SQLSTATE('C','R','0','0','6')
#define ERRCODE_CREDITS_SERVICE_NOT_COVERED		MAKE_SQLSTATE('C','R','0','0','7')
#define ERRCODE_CREDITS_UNKNOWN_CREDIT_TYPE		MAKE_SQLSTATE('C','R','0','0','8')
#define ERRCODE_CREDITS_NOT_A_MEMBER			MAKE_SQLSTATE('C','R','0','0','9')
#define ERRCODE_CREDITS_IDEMPOTENCY_MISMATCH	MAKE_SQLSTATE('C','R','0','1','0')
/* CR011 (pg_cron missing) is raised by the SQL functions schedule_expiry and unschedule_expiry */

/*
 * Predicate of a batch that can be spent now.  Redemption and balance use
 * this one text, with the same parameters: $1 account_id, $2 credit_type,
 * $3 service_id (NULL: only batches not restricted to services), $4 the
 * moment.  It matches credits.batches_spendable_idx.
 */
#define CREDITS_SPENDABLE_BATCH \
	"b.account_id = $1 AND b.credit_type = $2 AND b.is_open" \
	" AND b.expires_at > $4 AND b.valid_from <= $4" \
	" AND (b.service_ids IS NULL OR $3 = ANY (b.service_ids))"

/* Consumption order among spendable batches */
#define CREDITS_CONSUMPTION_ORDER \
	"b.expires_at, b.valid_from, b.batch_id"

/* plans.c: statements prepared once per backend and kept */
#define CREDITS_MAX_STATEMENT_ARGS 16

typedef struct CreditsStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[CREDITS_MAX_STATEMENT_ARGS];
	SPIPlanPtr	plan;			/* NULL until first use */
} CreditsStatement;

extern uint64 credits_execute(CreditsStatement *statement, Datum *values,
							  const char *nulls, long max_rows);
extern Datum credits_result_datum(int row, int column, bool *isnull);
extern int64 credits_result_int64(int row, int column);
extern Numeric credits_result_numeric(int row, int column);

/* arguments.c: checks on what a caller passes in */
extern void credits_require_arg(FunctionCallInfo fcinfo, int argno,
								const char *name);
extern Numeric credits_checked_amount(Numeric amount, const char *what);
extern int64 credits_checked_max_rows(int32 value, const char *what);
extern void credits_check_finite_time(TimestampTz value, const char *what);
extern text *credits_optional_text(FunctionCallInfo fcinfo, int argno);
extern TimestampTz credits_now(void);
extern Numeric credits_numeric_zero(void);
extern int	credits_numeric_cmp(Numeric a, Numeric b);
extern Numeric credits_numeric_add(Numeric a, Numeric b);
extern Numeric credits_numeric_sub(Numeric a, Numeric b);

/* arguments.c: canonical text of a call, compared on idempotent retries */
extern void credits_request_start(StringInfo request, const char *function);
extern void credits_request_add_text(StringInfo request, const char *name, text *value);
extern void credits_request_add_int64(StringInfo request, const char *name,
									  bool isnull, int64 value);
extern void credits_request_add_numeric(StringInfo request, const char *name,
										Numeric value);
extern void credits_request_add_time(StringInfo request, const char *name,
									 TimestampTz value);
extern void credits_request_add_int64_array(StringInfo request, const char *name,
											ArrayType *value);

/* catalogue.c: services and credit types */
typedef struct CreditsService
{
	int64		service_id;
	bool		accepts_credits;
	Numeric		credit_cost;
	text	   *credit_type;
	char	   *name;
} CreditsService;

extern void credits_find_service(int64 service_id, CreditsService *service);
extern void credits_require_accepts_credits(const CreditsService *service);
extern void credits_require_credit_type(text *credit_type);
extern void credits_require_services(ArrayType *service_ids);
extern Numeric credits_service_charge(const CreditsService *service, int32 quantity);
extern void credits_check_quantity(int32 quantity);

/* accounts.c: the per-account lock */
typedef struct CreditsAccount
{
	int64		account_id;
	bool		is_member;
	char	   *timezone;
} CreditsAccount;

extern void credits_lock_account(int64 account_id, bool create_missing,
								 CreditsAccount *account);
extern void credits_require_member(const CreditsAccount *account,
								   const char *action);

/* idempotency.c: earlier operations by key */
typedef struct CreditsPriorOperation
{
	int64		operation_id;
	Numeric		amount;
} CreditsPriorOperation;

extern bool credits_find_prior_operation(int64 account_id, text *idempotency_key,
										 const char *request,
										 CreditsPriorOperation *prior);

/* result_types.c: credits.redemption values */
typedef struct CreditsAllocations
{
	int			count;
	int			capacity;
	int64	   *batch_ids;
	Numeric    *amounts;
	TimestampTz *expires_at;
	Numeric    *balances_after;
} CreditsAllocations;

extern void credits_allocations_init(CreditsAllocations *allocations);
extern void credits_allocations_add(CreditsAllocations *allocations,
									int64 batch_id, Numeric amount,
									TimestampTz expires_at, Numeric balance_after);
extern Datum credits_redemption_datum(FunctionCallInfo fcinfo, int64 operation_id,
									  Numeric amount, Numeric balance_after,
									  const CreditsAllocations *allocations);
extern void credits_result_types_init(void);

/* grant.c: GUC credits.default_expiry */
extern Interval credits_default_expiry;
extern bool credits_check_default_expiry(char **newval, void **extra, GucSource source);
extern void credits_assign_default_expiry(const char *newval, void *extra);

/* balance.c: what an account can spend now */
extern Numeric credits_spendable(int64 account_id, text *credit_type,
								 bool has_service, int64 service_id,
								 TimestampTz at);

#endif							/* CREDITS_H */
