/*-------------------------------------------------------------------------
 *
 * direct.h
 *	  Writing rows of the credits tables through the table access method
 *	  (direct_write.c), for the hot paths that skip the SQL executor:
 *	  direct_redeem.c, direct_hold.c and direct_grant.c.  Not for other
 *	  files: every other write goes through SPI.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CREDITS_DIRECT_H
#define CREDITS_DIRECT_H

#include "credits.h"

#include "access/genam.h"
#include "access/skey.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/acl.h"
#include "utils/rel.h"

/* The tables a direct path may write */
typedef enum DirectTable
{
	DIRECT_BATCHES,
	DIRECT_TOTALS,
	DIRECT_OPERATIONS,
	DIRECT_LEDGER,
	DIRECT_SALES,
	DIRECT_HOLDS,
	DIRECT_HOLD_ALLOCATIONS,
	DIRECT_TABLE_COUNT
} DirectTable;

/* The indexes a path may search in a table (direct_write.c names them) */
typedef enum DirectIndex
{
	DIRECT_SEARCH_INDEX,		/* the one a path scans in an order of its own */
	DIRECT_KEY_INDEX,			/* the primary key: the account, then the row's id
								 * or credit type */
	DIRECT_INDEX_COUNT
} DirectIndex;

#define DIRECT_MAX_COLUMNS 16
#define DIRECT_MAX_LABELS 4

/* The type a shape's column must have; DIRECT_ENUM: any enum type */
#define DIRECT_ENUM InvalidOid

/*
 * One kind of row a path reads and changes (update) or writes (insert),
 * by its columns' names and types; the caller names columns by their
 * position in names.  An insert's optional columns are those some of the
 * statements it stands for name and others leave out: a row written for
 * a statement that leaves one out gets its default, as a column the shape
 * leaves out does (direct_new_row).  What is looked up from the
 * catalogue (column numbers, enum labels, defaults) is kept here once per
 * backend, and looked up again after the table changes.  A shape with no
 * columns only adds to the privileges its table needs.
 */
typedef struct DirectShape
{
	DirectTable table;
	bool		insert;
	AclMode		privileges;		/* what the SQL statement needs on the table */
	const char *const *names;
	const Oid  *types;
	int			count;
	uint32		optional;		/* bit i: names[i] may be left to its default */

	/* looked up, for the table's generation below */
	uint64		generation;
	bool		usable;
	AttrNumber	columns[DIRECT_MAX_COLUMNS];
	int			default_count;
	AttrNumber	default_columns[DIRECT_MAX_COLUMNS * 2];
	Expr	   *defaults[DIRECT_MAX_COLUMNS * 2];	/* planned */
	int			default_optional[DIRECT_MAX_COLUMNS * 2];	/* its position in
															 * names if optional,
															 * else -1 */
	int			label_count;
	const char *labels[DIRECT_MAX_LABELS];
	Oid			label_oids[DIRECT_MAX_LABELS];
} DirectShape;

/* One call's open tables and executor state */
typedef struct DirectCall
{
	bool		open[DIRECT_TABLE_COUNT];
	Relation	tables[DIRECT_TABLE_COUNT];
	ResultRelInfo results[DIRECT_TABLE_COUNT];
	bool		indexes_open[DIRECT_TABLE_COUNT];
	EState	   *estate;
	Snapshot	snapshot;
	CommandId	command;
} DirectCall;

extern bool direct_begin(DirectCall *call, const char *what, DirectShape *const *shapes,
						 int shape_count);
extern void direct_end(DirectCall *call);

extern TupleTableSlot *direct_table_slot(DirectCall *call, DirectTable table);
extern TupleTableSlot *direct_new_row(DirectCall *call, const DirectShape *shape,
									   uint32 named);
extern TupleTableSlot *direct_changed_row(DirectCall *call, DirectTable table,
										  TupleTableSlot *read);
extern void direct_set(TupleTableSlot *slot, const DirectShape *shape, int column,
					   Datum value, bool isnull);
extern Datum direct_get(TupleTableSlot *slot, const DirectShape *shape, int column,
						bool *isnull);
extern Oid	direct_label(DirectShape *shape, int column, const char *label);
extern void direct_insert(DirectCall *call, DirectTable table, TupleTableSlot *row);
extern void direct_update(DirectCall *call, DirectTable table, TupleTableSlot *read,
						  TupleTableSlot *changed);
extern int64 direct_next_id(DirectTable table);
extern Relation direct_open_index(DirectTable table, DirectIndex which);
extern IndexScanDesc direct_key_scan_begin(DirectCall *call, DirectTable table,
										   int64 account_id, int64 id);
extern void direct_key_scan_end(IndexScanDesc scan);
extern bool direct_find_by_key(DirectCall *call, DirectTable table, int64 account_id,
							   int64 id, TupleTableSlot *row);
extern void direct_account_credit_type_keys(ScanKeyData *keys, Relation index,
											int64 account_id, text *credit_type);
/*
 * An operation row, as every path writes it.  writes_service_id,
 * writes_package_id and writes_links: the statement the path stands for
 * names the column (a null is written as null), or the three columns
 * refund_of, hold_id and membership_id (0 is written as null); else they
 * keep their defaults.
 */
typedef struct DirectOperationRow
{
	int64		account_id;
	int64		operation_id;
	const char *kind;			/* credits.operation_kind label, a constant */
	text	   *idempotency_key;
	const char *request;
	Numeric		amount;
	text	   *credit_type;
	bool		writes_service_id;
	bool		has_service;
	int64		service_id;
	bool		writes_package_id;
	bool		has_package;
	int64		package_id;
	text	   *reference;
	TimestampTz created_at;
	Numeric		balance_after;
	bool		writes_links;
	int64		refund_of;
	int64		hold_id;
	int64		membership_id;
} DirectOperationRow;

/* A ledger entry row; writes_service_id as for an operation */
typedef struct DirectEntryRow
{
	int64		account_id;
	int64		operation_id;
	int32		entry_no;
	const char *kind;			/* credits.entry_kind label, a constant */
	int64		batch_id;
	text	   *credit_type;
	Numeric		delta;
	Numeric		balance_after;
	bool		writes_service_id;
	bool		has_service;
	int64		service_id;
	text	   *reference;
	TimestampTz created_at;
} DirectEntryRow;

/* The shapes of those two rows, for direct_begin */
extern DirectShape direct_operation_shape;
extern DirectShape direct_entry_shape;

extern void direct_insert_operation(DirectCall *call, const DirectOperationRow *row);
extern void direct_insert_entry(DirectCall *call, const DirectEntryRow *row);
/* The running total (its one column), and the operation's id read back */
extern DirectShape direct_total_shape;
extern DirectShape direct_operation_returned_shape;

extern bool direct_find_total(DirectCall *call, int64 account_id, text *credit_type,
							  TupleTableSlot *total);
extern void direct_update_total(DirectCall *call, const DirectShape *shape,
								TupleTableSlot *total, Numeric after);

/*
 * direct_redeem.c: the first spendable batch in consumption order, read
 * through credits.batches_spendable_idx, for a redemption or a hold; its
 * shape reads the columns below and may change remaining, held and
 * is_open.
 */
enum
{
	DIRECT_BATCH_BATCH_ID, DIRECT_BATCH_REMAINING, DIRECT_BATCH_HELD, DIRECT_BATCH_IS_OPEN,
	DIRECT_BATCH_VALID_FROM, DIRECT_BATCH_EXPIRES_AT, DIRECT_BATCH_SERVICE_IDS,
	DIRECT_BATCH_COLUMN_COUNT
};

extern DirectShape direct_spendable_batch_shape;

extern bool direct_find_covering_batch(DirectCall *call, const CreditsDrawRequest *request,
									   TimestampTz now, TupleTableSlot *batch,
									   Numeric *remaining, Numeric *held,
									   TupleTableSlot *total);
extern void direct_draw_batch(DirectCall *call, TupleTableSlot *batch, Numeric remaining,
							  Numeric held, CreditsFirstBatch *drawn);

#endif							/* CREDITS_DIRECT_H */
