/*-------------------------------------------------------------------------
 *
 * credits.h
 *	  Declarations shared by the C files of the credits extension: error
 *	  codes, the saved-statement helper, argument checks, request
 *	  fingerprints, the per-account lock and the result types.
 *
 * Every write path follows one protocol, described in README.md under
 * "Concurrency and locking": lock the account row, read what it needs
 * with a fresh snapshot, then make every change in one statement (or, for
 * a redemption from one batch and for a grant, through the table access
 * method: direct_write.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CREDITS_H
#define CREDITS_H

#include "postgres.h"

#include "access/tableam.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/numeric.h"
#include "utils/relcache.h"
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
#define ERRCODE_CREDITS_UNKNOWN_HOLD			MAKE_SQLSTATE('C','R','0','1','2')
#define ERRCODE_CREDITS_HOLD_CLOSED				MAKE_SQLSTATE('C','R','0','1','3')
#define ERRCODE_CREDITS_CAPTURE_EXCEEDS_HOLD	MAKE_SQLSTATE('C','R','0','1','4')
#define ERRCODE_CREDITS_UNKNOWN_REDEMPTION		MAKE_SQLSTATE('C','R','0','1','5')
#define ERRCODE_CREDITS_REFUND_EXCEEDS			MAKE_SQLSTATE('C','R','0','1','6')
#define ERRCODE_CREDITS_UNKNOWN_BATCH			MAKE_SQLSTATE('C','R','0','1','7')
#define ERRCODE_CREDITS_BATCH_VOIDED			MAKE_SQLSTATE('C','R','0','1','8')
#define ERRCODE_CREDITS_UNKNOWN_MEMBERSHIP		MAKE_SQLSTATE('C','R','0','1','9')
#define ERRCODE_CREDITS_MEMBERSHIP_OVER			MAKE_SQLSTATE('C','R','0','2','0')
#define ERRCODE_CREDITS_ALREADY_CANCELLED		MAKE_SQLSTATE('C','R','0','2','1')
#define ERRCODE_CREDITS_UNKNOWN_BOOKING			MAKE_SQLSTATE('C','R','0','2','2')

/*
 * Predicate of a batch that can be spent now: it is open (it has credits
 * not held by a hold), valid at the moment, and applies to the service.
 * Redemption, holds and balance use this one text, with the same
 * parameters: $1 account_id, $2 credit_type, $3 service_id (NULL: only
 * batches not restricted to services), $4 the moment.  It matches
 * credits.batches_spendable_idx.  What a batch can give is
 * remaining - held.
 */
#define CREDITS_SPENDABLE_BATCH \
	"b.account_id = $1 AND b.credit_type = $2 AND b.is_open" \
	" AND b.expires_at > $4 AND b.valid_from <= $4" \
	" AND (b.service_ids IS NULL OR $3 = ANY (b.service_ids))"

/* Consumption order among spendable batches */
#define CREDITS_CONSUMPTION_ORDER \
	"b.expires_at, b.valid_from, b.batch_id"

/* plans.c: statements prepared once per backend and kept */
#define CREDITS_MAX_STATEMENT_ARGS 20

typedef struct CreditsStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[CREDITS_MAX_STATEMENT_ARGS];
	SPIPlanPtr	plan;			/* NULL until first use */
	bool		without_jit;	/* planned and run with jit off (plans.c) */
} CreditsStatement;

extern uint64 credits_execute(CreditsStatement *statement, Datum *values,
							  const char *nulls, long max_rows);
extern Portal credits_open_cursor(CreditsStatement *statement, Datum *values,
								  const char *nulls);
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
extern TimestampTz credits_local_time_after(TimestampTz start, const Interval *length,
											const char *timezone);
extern Numeric credits_numeric_zero(void);
extern int	credits_numeric_cmp(Numeric a, Numeric b);
extern Numeric credits_numeric_add(Numeric a, Numeric b);
extern Numeric credits_numeric_sub(Numeric a, Numeric b);
extern Numeric credits_numeric_min(Numeric a, Numeric b);
extern bool credits_numeric_is_zero(Numeric value);
extern char *credits_numeric_text(Numeric value);

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
extern void credits_require_credit_type(text *credit_type);
extern void credits_require_services(ArrayType *service_ids);
extern Numeric credits_service_charge(const CreditsService *service, int32 quantity);
extern void credits_check_service_for(int64 service_id, text *credit_type);
extern Numeric credits_price_service(int64 service_id, int32 quantity, text **credit_type);
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
	Numeric		balance_after;	/* running total after it */
	int64		membership_id;	/* 0: none */
} CreditsPriorOperation;

extern bool credits_find_prior_operation(int64 account_id, text *idempotency_key,
										 const char *request,
										 CreditsPriorOperation *prior);

/* result_types.c: credits.redemption, credits.refund and credits.hold values */
typedef struct CreditsAllocations
{
	int			count;
	int			capacity;
	int64	   *batch_ids;
	Numeric    *amounts;
	TimestampTz *expires_at;
} CreditsAllocations;

extern void credits_allocations_init(CreditsAllocations *allocations);
extern void credits_allocations_add(CreditsAllocations *allocations,
									int64 batch_id, Numeric amount,
									TimestampTz expires_at);
extern Datum credits_redemption_datum(FunctionCallInfo fcinfo, int64 operation_id,
									  Numeric amount, Numeric balance_after,
									  const CreditsAllocations *allocations,
									  int64 membership_id);
extern Datum credits_hold_datum(FunctionCallInfo fcinfo, int64 hold_id,
								Numeric amount, bool has_hold_until,
								TimestampTz hold_until,
								const CreditsAllocations *allocations,
								int64 membership_id);
extern void credits_result_types_init(void);

/* draw.c: choosing batches in consumption order */
extern Numeric credits_draw_spendable(int64 account_id, text *credit_type,
									  bool has_service, int64 service_id,
									  Numeric amount, TimestampTz now,
									  CreditsAllocations *allocations,
									  Numeric *total);
extern void credits_report_shortfall(int64 account_id, text *credit_type,
									 bool has_service, int64 service_id,
									 Numeric amount, Numeric missing,
									 TimestampTz now) pg_attribute_noreturn();

/*
 * redeem.c, holds.c, direct_redeem.c and direct_hold.c: one redemption or
 * hold, whichever function asked for it, and what one from the first
 * spendable batch alone wrote (for a hold: its operation, which is the
 * hold, and the running total, which it leaves unchanged).
 */
typedef struct CreditsDrawRequest
{
	int64		account_id;
	const char *kind;			/* credits.operation_kind label */
	Numeric		amount;
	text	   *credit_type;
	bool		has_service;
	int64		service_id;
	int32		quantity;		/* 0 unless redeem_service or hold_service */
	bool		has_hold_until; /* holds only */
	TimestampTz hold_until;
	text	   *reference;
	text	   *idempotency_key;
	const char *request;
} CreditsDrawRequest;

typedef struct CreditsFirstBatch
{
	int64		operation_id;
	int64		batch_id;
	TimestampTz expires_at;
	Numeric		amount;			/* taken from the batch, as the statements take it */
	Numeric		total;			/* running total after */
} CreditsFirstBatch;

typedef enum CreditsDirectResult
{
	CREDITS_DIRECT_WRITTEN,
	CREDITS_DIRECT_SHORT,		/* not the case the path covers (a redemption or
								 * hold: no first batch, or it is short; a
								 * capture: direct_capture.c): nothing
								 * written */
	CREDITS_DIRECT_UNAVAILABLE	/* the SQL statement must do it: nothing written */
} CreditsDirectResult;

extern CreditsDirectResult credits_redeem_first_batch_directly(
	const CreditsDrawRequest *redeem, TimestampTz now, CreditsFirstBatch *drawn);

extern CreditsDirectResult credits_hold_first_batch_directly(
	const CreditsDrawRequest *hold, TimestampTz now, CreditsFirstBatch *drawn);

/*
 * holds.c and direct_capture.c: a capture of a hold that keeps credits of
 * one batch, reported as a CreditsFirstBatch (the capture's operation, the
 * batch, the running total after).
 */
extern CreditsDirectResult credits_capture_directly(int64 account_id, int64 hold_id,
													Numeric *capture,
													text *idempotency_key,
													const char *request,
													TimestampTz now,
													CreditsFirstBatch *drawn);

/*
 * grant.c and direct_grant.c: one grant of a new batch, whichever
 * function asked for it.
 */
typedef struct CreditsGrant
{
	int64		account_id;
	const char *kind;			/* credits.operation_kind label */
	const char *source;			/* credits.batch_source label */
	text	   *credit_type;
	Numeric		amount;
	TimestampTz valid_from;
	TimestampTz expires_at;		/* unless expires_in_local_time */
	bool		expires_in_local_time;
	Interval	validity;		/* with expires_in_local_time */
	ArrayType  *service_ids;	/* NULL: every credit-enabled service */
	text	   *reference;
	text	   *idempotency_key;
	const char *request;
	/* package sales only */
	bool		has_package;
	int64		package_id;
	Numeric		price;
	text	   *currency;
	text	   *country;
	text	   *payment_ref;
} CreditsGrant;

extern CreditsDirectResult credits_grant_directly(const CreditsGrant *grant,
												  TimestampTz now, int64 *batch_id);

/*
 * direct_read.c: one row read by its bigint primary key, without a SQL
 * statement.  A read is declared once, static, by the file that uses it.
 */
#define DIRECT_READ_MAX_COLUMNS 12

typedef struct DirectRead
{
	const char *table_name;		/* in schema credits */
	const char *key_column;		/* bigint, the primary key */
	bool		lock_row;		/* FOR UPDATE */
	const char *const *names;	/* the columns returned */
	const Oid  *types;
	int			count;

	/* looked up once per backend, and again after the table changes */
	bool		registered;
	bool		valid;
	bool		usable;
	Oid			relid;
	Oid			index;
	AttrNumber	key_attno;
	AttrNumber	columns[DIRECT_READ_MAX_COLUMNS];
} DirectRead;

typedef enum DirectReadResult
{
	CREDITS_READ_FOUND,
	CREDITS_READ_MISSING,
	CREDITS_READ_UNAVAILABLE	/* nothing read: the SQL statement must */
} DirectReadResult;

extern DirectReadResult direct_read_row(DirectRead *read, int64 key, Datum *values,
										bool *nulls);
extern bool direct_read_or_select(DirectRead *read, CreditsStatement *statement,
								  int64 key, Datum *values, bool *nulls);
extern const char *direct_why_not_plain(Relation table);

/* lock_spin.c: a row lock taken after a spin while its holder works */
extern int	credits_account_lock_spin;
extern TM_Result credits_lock_row_spinning(Relation table, ItemPointer tid, Snapshot snapshot,
										   TupleTableSlot *slot, int flags,
										   TM_FailureData *failure);

/* direct_write.c: the cache callbacks the direct paths' cache needs */
extern void credits_direct_init(void);

/* movement.c: batch changes, ledger entries, the operation, the running total */
typedef struct CreditsOperation
{
	const char *kind;			/* credits.operation_kind label */
	text	   *idempotency_key;
	const char *request;
	Numeric		amount;
	bool		has_service;
	int64		service_id;
	text	   *reference;
	int64		refund_of;		/* 0: none */
	int64		hold_id;		/* 0: none */
	int64		membership_id;	/* 0: none */
} CreditsOperation;

typedef struct CreditsMovement
{
	int64		account_id;
	text	   *credit_type;
	TimestampTz now;
	Numeric		total;			/* running total after the entries so far */
	Numeric		net;			/* sum of their deltas */
	int			count;
	int			capacity;
	Datum	   *kinds;
	Datum	   *batch_ids;
	Datum	   *deltas;
	Datum	   *balances_after;
} CreditsMovement;

extern Numeric credits_running_total(int64 account_id, text *credit_type);
extern void credits_movement_start(CreditsMovement *movement, int64 account_id,
								   text *credit_type, Numeric total, TimestampTz now);
extern void credits_movement_change_batch(CreditsMovement *movement, int64 batch_id,
										  Numeric remaining_delta, Numeric held_delta);
extern Numeric credits_movement_entry(CreditsMovement *movement, const char *kind,
									  int64 batch_id, Numeric delta);
extern int64 credits_movement_finish(CreditsMovement *movement,
									 const CreditsOperation *operation);

/* grant.c: GUC credits.default_expiry */
extern Interval credits_default_expiry;
extern bool credits_check_default_expiry(char **newval, void **extra, GucSource source);
extern void credits_assign_default_expiry(const char *newval, void *extra);

/* memberships.c */
extern int64 credits_find_active_membership(int64 account_id, int64 service_id,
											TimestampTz at);
extern void credits_record_visit(int64 account_id, int64 operation_id,
								 int64 membership_id, int64 service_id,
								 int32 quantity, text *reference, TimestampTz now);
extern void credits_start_membership(int64 account_id, int64 membership_id,
									 int64 package_id, TimestampTz granted_at,
									 const Interval *period, const char *timezone,
									 ArrayType *service_ids, TimestampTz now);

/* holds.c: what capture, release and cancellation share */
typedef struct CreditsHold
{
	int64		account_id;
	int64		hold_id;
	bool		open;
	text	   *credit_type;
	bool		has_service;
	int64		service_id;
	int32		quantity;		/* of the service (1 for hold_credits) */
	Numeric		amount;			/* held when placed */
	int64		membership_id;	/* 0: credits are held */
	bool		has_hold_until;
	TimestampTz hold_until;
} CreditsHold;

extern bool credits_read_hold(int64 account_id, int64 hold_id, CreditsHold *hold);
extern void credits_require_open_hold(const CreditsHold *hold);
extern Numeric credits_close_hold(CreditsMovement *movement, const CreditsHold *hold,
								  Numeric capture, CreditsAllocations *captured);
extern void credits_mark_hold_closed(const CreditsHold *hold, Numeric captured,
									 bool capturing, int64 operation_id,
									 TimestampTz now);

/* refunds.c: what refund_redemption and cancellation share */
typedef struct CreditsRedemption
{
	int64		operation_id;
	Numeric		amount;
	text	   *credit_type;
	bool		has_service;
	int64		service_id;
	int64		membership_id;
} CreditsRedemption;

extern bool credits_read_redemption(int64 account_id, int64 operation_id,
									CreditsRedemption *redemption);
extern Numeric credits_refundable(int64 account_id, int64 operation_id);
extern void credits_refund_into(CreditsMovement *movement, int64 operation_id,
								Numeric amount, CreditsAllocations *credited);


#endif							/* CREDITS_H */
