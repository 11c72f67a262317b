/*-------------------------------------------------------------------------
 *
 * direct_redeem.c
 *	  The common redemption, one batch that covers the amount, written
 *	  through the table access method instead of a SQL statement: find the
 *	  first spendable batch in credits.batches_spendable_idx, update it and
 *	  the running total in place, insert the operation and its ledger
 *	  entry.  It makes the same row changes, in the same order, as the
 *	  statement redeem_from_first_batch in redeem.c, and keeps the same
 *	  rules: every CHECK and NOT NULL constraint of the four tables is
 *	  evaluated on every row written (ExecConstraints), unique indexes are
 *	  checked on insert, a conflict under REPEATABLE READ is a
 *	  serialization failure.  What it saves is the executor's fixed cost per
 *	  statement, above all the CHECK constraints parsed from text again on
 *	  every execution: they are parsed and planned here once per backend,
 *	  and again only after the relation cache says a table changed.
 *
 *	  It writes only when the four tables are plain tables with no
 *	  triggers, no row-level security and no inheritance children, and the
 *	  function's owner has the privileges the statement would need; else
 *	  it writes nothing and the caller runs the SQL statement, so that
 *	  triggers fire, policies apply and missing privileges are reported as
 *	  the statement reports them.
 *
 * Locking
 *	  The caller holds the account's row lock (accounts.c), so no other
 *	  writer touches the account's batches, running total or operations:
 *	  the row versions read here are the ones updated.  The four tables
 *	  are opened with RowExclusiveLock, the two indexes it searches with
 *	  AccessShareLock, and the indexes it inserts into with RowExclusiveLock,
 *	  as an UPDATE or INSERT statement would; all are kept to the end of
 *	  the transaction.  It reads with a new snapshot (a new one per call
 *	  under READ COMMITTED, the transaction's under REPEATABLE READ), taken
 *	  after the account lock was granted.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* The tables written, in the order they are written */
typedef enum DirectTable
{
	DIRECT_BATCHES,
	DIRECT_TOTALS,
	DIRECT_OPERATIONS,
	DIRECT_LEDGER,
	DIRECT_TABLE_COUNT
} DirectTable;

static const char *const direct_table_names[DIRECT_TABLE_COUNT] = {
	"batches", "account_totals", "operations", "ledger"
};

/* The privileges the SQL statement needs on each table */
static const AclMode direct_table_privileges[DIRECT_TABLE_COUNT] = {
	ACL_SELECT | ACL_UPDATE, ACL_SELECT | ACL_UPDATE, ACL_INSERT, ACL_INSERT
};

/* Columns read or written, by name; their numbers are looked up once */
typedef enum BatchColumn
{
	BATCH_ACCOUNT_ID, BATCH_BATCH_ID, BATCH_CREDIT_TYPE, BATCH_REMAINING,
	BATCH_HELD, BATCH_IS_OPEN, BATCH_VALID_FROM, BATCH_EXPIRES_AT,
	BATCH_SERVICE_IDS, BATCH_COLUMN_COUNT
} BatchColumn;

static const char *const batch_column_names[BATCH_COLUMN_COUNT] = {
	"account_id", "batch_id", "credit_type", "remaining", "held", "is_open",
	"valid_from", "expires_at", "service_ids"
};

typedef enum TotalColumn
{
	TOTAL_ACCOUNT_ID, TOTAL_CREDIT_TYPE, TOTAL_TOTAL, TOTAL_COLUMN_COUNT
} TotalColumn;

static const char *const total_column_names[TOTAL_COLUMN_COUNT] = {
	"account_id", "credit_type", "total"
};

typedef enum OperationColumn
{
	OPERATION_ACCOUNT_ID, OPERATION_OPERATION_ID, OPERATION_KIND,
	OPERATION_IDEMPOTENCY_KEY, OPERATION_REQUEST, OPERATION_AMOUNT,
	OPERATION_CREDIT_TYPE, OPERATION_SERVICE_ID, OPERATION_REFERENCE,
	OPERATION_CREATED_AT, OPERATION_BALANCE_AFTER, OPERATION_COLUMN_COUNT
} OperationColumn;

static const char *const operation_column_names[OPERATION_COLUMN_COUNT] = {
	"account_id", "operation_id", "kind", "idempotency_key", "request", "amount",
	"credit_type", "service_id", "reference", "created_at", "balance_after"
};

typedef enum EntryColumn
{
	ENTRY_ACCOUNT_ID, ENTRY_OPERATION_ID, ENTRY_ENTRY_NO, ENTRY_KIND,
	ENTRY_BATCH_ID, ENTRY_CREDIT_TYPE, ENTRY_DELTA, ENTRY_BALANCE_AFTER,
	ENTRY_SERVICE_ID, ENTRY_REFERENCE, ENTRY_CREATED_AT, ENTRY_COLUMN_COUNT
} EntryColumn;

static const char *const entry_column_names[ENTRY_COLUMN_COUNT] = {
	"account_id", "operation_id", "entry_no", "kind", "batch_id", "credit_type",
	"delta", "balance_after", "service_id", "reference", "created_at"
};

/*
 * What is looked up once per backend.  Any relation cache invalidation of
 * one of the four tables (ALTER TABLE, CREATE TRIGGER, a new constraint,
 * DROP EXTENSION) marks it stale, and the next call looks everything up
 * again.
 */
typedef struct DirectCache
{
	bool		valid;
	bool		usable;			/* the tables have the shape this file writes */
	MemoryContext context;
	Oid			relids[DIRECT_TABLE_COUNT];
	Oid			spendable_index;
	Oid			totals_index;
	Oid			operation_sequence;
	int			check_count[DIRECT_TABLE_COUNT];
	Expr	  **checks[DIRECT_TABLE_COUNT]; /* planned, in relation cache order */
	AttrNumber	batch_columns[BATCH_COLUMN_COUNT];
	AttrNumber	total_columns[TOTAL_COLUMN_COUNT];
	AttrNumber	operation_columns[OPERATION_COLUMN_COUNT];
	AttrNumber	entry_columns[ENTRY_COLUMN_COUNT];
	Oid			redeem_credits_kind;	/* credits.operation_kind labels */
	Oid			redeem_service_kind;
	Oid			redeem_entry_kind;	/* credits.entry_kind label */
} DirectCache;

static DirectCache cache;

/* One call's open tables and executor state */
typedef struct DirectCall
{
	Relation	tables[DIRECT_TABLE_COUNT];
	ResultRelInfo results[DIRECT_TABLE_COUNT];
	bool		indexes_open[DIRECT_TABLE_COUNT];
	EState	   *estate;
	Snapshot	snapshot;
	CommandId	command;
} DirectCall;

static void
direct_cache_invalidate(Datum arg pg_attribute_unused(), Oid relid)
{
	if (relid == InvalidOid)
		cache.valid = false;
	for (int i = 0; i < DIRECT_TABLE_COUNT; i++)
		if (cache.relids[i] == relid)
			cache.valid = false;
}

void
credits_direct_redeem_init(void)
{
	CacheRegisterRelcacheCallback(direct_cache_invalidate, (Datum) 0);
}

/* False if a column is missing: the shape differs, use the statement */
static bool
find_columns(Relation table, const char *const *names, int count,
			 AttrNumber *columns)
{
	for (int i = 0; i < count; i++)
	{
		columns[i] = get_attnum(RelationGetRelid(table), names[i]);
		if (columns[i] == InvalidAttrNumber)
			return false;
	}
	return true;
}

/*
 * An inserted row sets only the columns named here; a column with a
 * default or a generated one would be filled by an INSERT statement.
 */
static bool
only_columns_without_defaults_left(Relation table, const AttrNumber *columns,
								   int count)
{
	TupleDesc	descriptor = RelationGetDescr(table);

	for (int attno = 1; attno <= descriptor->natts; attno++)
	{
		Form_pg_attribute attribute = TupleDescAttr(descriptor, attno - 1);
		bool		written = false;

		if (attribute->attisdropped)
			continue;
		for (int i = 0; i < count; i++)
			written = written || columns[i] == attno;
		if (!written && (attribute->atthasdef || attribute->attgenerated))
			return false;
	}
	return true;
}

/* True if the index's leading key columns are these, in this order */
static bool
index_leads_with(Oid index_oid, const AttrNumber *columns, int count)
{
	Relation	index = index_open(index_oid, AccessShareLock);
	bool		leads = index->rd_index->indnkeyatts >= count;

	for (int i = 0; leads && i < count; i++)
		leads = index->rd_index->indkey.values[i] == columns[i];
	index_close(index, AccessShareLock);
	return leads;
}

static Oid
enum_label(Relation table, AttrNumber column, const char *label)
{
	Oid			type = TupleDescAttr(RelationGetDescr(table), column - 1)->atttypid;

	return DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(label),
												ObjectIdGetDatum(type)));
}

/*
 * Looks up, with the tables open and locked, everything a call needs.
 * Sets cache.usable to false if the tables are not the ones this file
 * knows how to write.
 */
static void
build_cache(Relation *tables)
{
	Oid			schema = RelationGetNamespace(tables[DIRECT_BATCHES]);
	MemoryContext old;

	if (cache.context == NULL)
		cache.context = AllocSetContextCreate(TopMemoryContext,
											  "credits direct redemption",
											  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(cache.context);
	cache.usable = false;
	cache.valid = true;

	if (!find_columns(tables[DIRECT_BATCHES], batch_column_names,
					  BATCH_COLUMN_COUNT, cache.batch_columns) ||
		!find_columns(tables[DIRECT_TOTALS], total_column_names,
					  TOTAL_COLUMN_COUNT, cache.total_columns) ||
		!find_columns(tables[DIRECT_OPERATIONS], operation_column_names,
					  OPERATION_COLUMN_COUNT, cache.operation_columns) ||
		!find_columns(tables[DIRECT_LEDGER], entry_column_names,
					  ENTRY_COLUMN_COUNT, cache.entry_columns))
		return;
	if (!only_columns_without_defaults_left(tables[DIRECT_OPERATIONS],
											cache.operation_columns,
											OPERATION_COLUMN_COUNT) ||
		!only_columns_without_defaults_left(tables[DIRECT_LEDGER],
											cache.entry_columns,
											ENTRY_COLUMN_COUNT))
		return;

	cache.spendable_index = get_relname_relid("batches_spendable_idx", schema);
	cache.totals_index = RelationGetPrimaryKeyIndex(tables[DIRECT_TOTALS]);
	cache.operation_sequence = get_relname_relid("operation_id_seq", schema);
	if (!OidIsValid(cache.spendable_index) || !OidIsValid(cache.totals_index) ||
		!OidIsValid(cache.operation_sequence))
		return;
	{
		AttrNumber	spendable_keys[3] = {
			cache.batch_columns[BATCH_ACCOUNT_ID],
			cache.batch_columns[BATCH_CREDIT_TYPE],
			cache.batch_columns[BATCH_EXPIRES_AT]
		};
		AttrNumber	total_keys[2] = {
			cache.total_columns[TOTAL_ACCOUNT_ID],
			cache.total_columns[TOTAL_CREDIT_TYPE]
		};

		if (!index_leads_with(cache.spendable_index, spendable_keys, 3) ||
			!index_leads_with(cache.totals_index, total_keys, 2))
			return;
	}

	cache.redeem_credits_kind =
		enum_label(tables[DIRECT_OPERATIONS],
				   cache.operation_columns[OPERATION_KIND], "redeem_credits");
	cache.redeem_service_kind =
		enum_label(tables[DIRECT_OPERATIONS],
				   cache.operation_columns[OPERATION_KIND], "redeem_service");
	cache.redeem_entry_kind =
		enum_label(tables[DIRECT_LEDGER], cache.entry_columns[ENTRY_KIND], "redeem");

	/* CHECK constraints, parsed and planned as ExecRelCheck would each time */
	old = MemoryContextSwitchTo(cache.context);
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		TupleConstr *constraints = RelationGetDescr(tables[t])->constr;
		int			count = constraints ? constraints->num_check : 0;

		cache.check_count[t] = count;
		cache.checks[t] = count > 0 ? palloc(count * sizeof(Expr *)) : NULL;
		for (int i = 0; i < count; i++)
			cache.checks[t][i] =
				expression_planner((Expr *) stringToNode(constraints->check[i].ccbin));
	}
	MemoryContextSwitchTo(old);

	cache.usable = true;
}

/*
 * NULL if the tables can be written directly, else why the SQL statement
 * must do the work instead.
 */
static const char *
why_not_direct(Relation *tables)
{
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		Relation	table = tables[t];
		TupleConstr *constraints = RelationGetDescr(table)->constr;

		if (table->rd_rel->relkind != RELKIND_RELATION || table->rd_rel->relispartition)
			return "a table is not a plain table";
		if (table->rd_rel->relhassubclass)
			return "a table has inheritance children";
		if (table->rd_rel->relrowsecurity)
			return "a table has row-level security";
		if (table->trigdesc != NULL)
			return "a table has triggers";
		if ((constraints ? constraints->num_check : 0) != cache.check_count[t])
			return "a table's CHECK constraints changed";
		if (pg_class_aclcheck(RelationGetRelid(table), GetUserId(),
							  direct_table_privileges[t]) != ACLCHECK_OK)
			return "the function's owner lacks a privilege on a table";
	}
	return NULL;
}

/*
 * Opens the four tables.  False, with nothing open, if the direct path
 * cannot be used.
 */
static bool
open_tables(DirectCall *call)
{
	bool		all_open = true;
	const char *why;

	if (!cache.valid)
	{
		Oid			schema = get_namespace_oid("credits", false);

		for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
			cache.relids[t] = get_relname_relid(direct_table_names[t], schema);
	}
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		call->tables[t] = OidIsValid(cache.relids[t]) ?
			try_table_open(cache.relids[t], RowExclusiveLock) : NULL;
		all_open = all_open && call->tables[t] != NULL;
	}
	/* the lock waits above read invalidations: build with what is locked */
	if (all_open && !cache.valid)
		build_cache(call->tables);
	if (!all_open)
		why = "a table is missing";
	else if (!cache.usable)
		why = "the tables do not have the columns and indexes it writes";
	else
		why = why_not_direct(call->tables);
	if (why == NULL)
		return true;

	ereport(DEBUG1,
			(errmsg_internal("credits: redemption by SQL statement, not directly: %s", why)));
	/* the statement takes the same locks: keep them, as it will */
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
		if (call->tables[t] != NULL)
			table_close(call->tables[t], NoLock);
	if (!all_open)
		cache.valid = false;	/* a table was dropped: look up again next time */
	return false;
}

static void
start_call(DirectCall *call)
{
	MemoryContext old;

	call->estate = CreateExecutorState();
	old = MemoryContextSwitchTo(call->estate->es_query_cxt);
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		ResultRelInfo *result = &call->results[t];

		InitResultRelInfo(result, call->tables[t], 0, NULL, 0);
		if (cache.check_count[t] > 0)
		{
			result->ri_ConstraintExprs = palloc(cache.check_count[t] * sizeof(ExprState *));
			for (int i = 0; i < cache.check_count[t]; i++)
				result->ri_ConstraintExprs[i] = ExecInitExpr(cache.checks[t][i], NULL);
		}
		call->indexes_open[t] = false;
	}
	MemoryContextSwitchTo(old);

	PushActiveSnapshot(GetTransactionSnapshot());
	call->snapshot = GetActiveSnapshot();
	call->estate->es_snapshot = call->snapshot;
}

static void
end_call(DirectCall *call)
{
	PopActiveSnapshot();
	ExecResetTupleTable(call->estate->es_tupleTable, false);
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		if (call->indexes_open[t])
			ExecCloseIndices(&call->results[t]);
		table_close(call->tables[t], NoLock);
	}
	FreeExecutorState(call->estate);
}

static TupleTableSlot *
table_row_slot(DirectCall *call, DirectTable table)
{
	Relation	relation = call->tables[table];

	return ExecInitExtraTupleSlot(call->estate, RelationGetDescr(relation),
								  table_slot_callbacks(relation));
}

/* An empty row of the table, every column null, to be filled in */
static TupleTableSlot *
new_row_slot(DirectCall *call, DirectTable table)
{
	TupleTableSlot *slot = ExecInitExtraTupleSlot(call->estate,
												  RelationGetDescr(call->tables[table]),
												  &TTSOpsVirtual);

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts * sizeof(bool));
	return slot;
}

/* A copy of a row read, to be changed */
static TupleTableSlot *
changed_row_slot(DirectCall *call, DirectTable table, TupleTableSlot *read)
{
	TupleTableSlot *slot = new_row_slot(call, table);
	int			natts = slot->tts_tupleDescriptor->natts;

	slot_getallattrs(read);
	memcpy(slot->tts_values, read->tts_values, natts * sizeof(Datum));
	memcpy(slot->tts_isnull, read->tts_isnull, natts * sizeof(bool));
	return slot;
}

static void
set_column(TupleTableSlot *slot, AttrNumber column, Datum value, bool isnull)
{
	slot->tts_values[column - 1] = value;
	slot->tts_isnull[column - 1] = isnull;
}

static void
insert_index_entries(DirectCall *call, DirectTable table, TupleTableSlot *slot,
					 bool update)
{
	ResultRelInfo *result = &call->results[table];

	if (!call->indexes_open[table])
	{
		ExecOpenIndices(result, false);
		call->indexes_open[table] = true;
	}
	if (result->ri_NumIndices > 0)
		ExecInsertIndexTuples(result, slot, call->estate, update, false, NULL, NIL);
}

static void
check_constraints(DirectCall *call, DirectTable table, TupleTableSlot *slot)
{
	if (RelationGetDescr(call->tables[table])->constr != NULL)
		ExecConstraints(&call->results[table], slot, call->estate);
}

/*
 * Replaces the row read by the changed one, as UPDATE does: constraints,
 * the new version, index entries unless it is a HOT update.
 */
static void
update_row(DirectCall *call, DirectTable table, TupleTableSlot *read,
		   TupleTableSlot *changed)
{
	Relation	relation = call->tables[table];
	TM_FailureData failure;
	LockTupleMode lock_mode;
	bool		update_indexes;
	TM_Result	result;

	ExecStoreVirtualTuple(changed);
	CheckValidResultRel(&call->results[table], CMD_UPDATE);
	check_constraints(call, table, changed);
	result = table_tuple_update(relation, &read->tts_tid, changed, call->command,
								call->snapshot, InvalidSnapshot, true,
								&failure, &lock_mode, &update_indexes);
	if (result == TM_Updated || result == TM_Deleted)
	{
		/*
		 * Only under REPEATABLE READ: the row read is the snapshot's, and
		 * another transaction changed it since (the account lock is taken
		 * after the snapshot).  Under READ COMMITTED the snapshot was taken
		 * after the account lock, which every writer of the row holds.
		 */
		if (IsolationUsesXactSnapshot())
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent %s",
							result == TM_Updated ? "update" : "delete"),
					 errhint("The transaction might succeed if retried.")));
		elog(ERROR, "row of \"%s\" changed by another transaction under the account lock",
			 RelationGetRelationName(relation));
	}
	if (result != TM_Ok)
		elog(ERROR, "unexpected result %d updating a row of \"%s\"", (int) result,
			 RelationGetRelationName(relation));
	if (update_indexes)
		insert_index_entries(call, table, changed, true);
}

static void
insert_row(DirectCall *call, DirectTable table, TupleTableSlot *row)
{
	ExecStoreVirtualTuple(row);
	CheckValidResultRel(&call->results[table], CMD_INSERT);
	check_constraints(call, table, row);
	table_tuple_insert(call->tables[table], row, call->command, 0, NULL);
	insert_index_entries(call, table, row, false);
}

/* True if the batch may be spent on the service, as in CREDITS_SPENDABLE_BATCH */
static bool
batch_applies(TupleTableSlot *batch, const CreditsFirstBatch *draw)
{
	bool		isnull;
	Datum		service_ids = slot_getattr(batch, cache.batch_columns[BATCH_SERVICE_IDS],
										   &isnull);
	Datum	   *elements;
	bool	   *element_nulls;
	int			count;

	if (isnull)
		return true;
	if (!draw->has_service)
		return false;
	deconstruct_array(DatumGetArrayTypeP(service_ids), INT8OID, sizeof(int64),
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elements, &element_nulls, &count);
	for (int i = 0; i < count; i++)
		if (!element_nulls[i] && DatumGetInt64(elements[i]) == draw->service_id)
			return true;
	return false;
}

/* The leading keys of both indexes searched: the account and credit type */
static void
account_credit_type_keys(ScanKeyData *keys, Relation index, const CreditsFirstBatch *draw)
{
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(draw->account_id));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[1], F_TEXTEQ,
						   PointerGetDatum(draw->credit_type));
}

/*
 * The first spendable batch in consumption order: the index is in that
 * order (account, credit type, expiry, validity start, batch id) and
 * holds open batches only.
 */
static bool
find_first_batch(DirectCall *call, const CreditsFirstBatch *draw, TupleTableSlot *batch)
{
	Relation	index = index_open(cache.spendable_index, AccessShareLock);
	ScanKeyData keys[3];
	IndexScanDesc scan;
	bool		found = false;

	account_credit_type_keys(keys, index, draw);
	ScanKeyInit(&keys[2], 3, BTGreaterStrategyNumber, F_TIMESTAMPTZ_GT,
				TimestampTzGetDatum(draw->now));

	scan = index_beginscan(call->tables[DIRECT_BATCHES], index, call->snapshot, 3, 0);
	index_rescan(scan, keys, 3, NULL, 0);
	while (!found && index_getnext_slot(scan, ForwardScanDirection, batch))
	{
		bool		isnull;

		found = DatumGetBool(slot_getattr(batch, cache.batch_columns[BATCH_IS_OPEN], &isnull)) &&
			DatumGetTimestampTz(slot_getattr(batch, cache.batch_columns[BATCH_VALID_FROM],
											 &isnull)) <= draw->now &&
			batch_applies(batch, draw);
	}
	index_endscan(scan);
	index_close(index, NoLock);
	return found;
}

static bool
find_total(DirectCall *call, const CreditsFirstBatch *draw, TupleTableSlot *total)
{
	Relation	index = index_open(cache.totals_index, AccessShareLock);
	ScanKeyData keys[2];
	IndexScanDesc scan;
	bool		found;

	account_credit_type_keys(keys, index, draw);
	scan = index_beginscan(call->tables[DIRECT_TOTALS], index, call->snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, total);
	index_endscan(scan);
	index_close(index, NoLock);
	return found;
}

static Numeric
numeric_column(TupleTableSlot *slot, AttrNumber column)
{
	bool		isnull;

	return DatumGetNumeric(slot_getattr(slot, column, &isnull));
}

static Datum
optional_text(text *value, bool *isnull)
{
	*isnull = value == NULL;
	return PointerGetDatum(value);
}

/* The operation row and its one ledger entry */
static void
insert_operation_and_entry(DirectCall *call, const CreditsFirstBatch *draw)
{
	TupleTableSlot *operation = new_row_slot(call, DIRECT_OPERATIONS);
	TupleTableSlot *entry = new_row_slot(call, DIRECT_LEDGER);
	const AttrNumber *o = cache.operation_columns;
	const AttrNumber *e = cache.entry_columns;
	Datum		account_id = Int64GetDatum(draw->account_id);
	Datum		operation_id = Int64GetDatum(draw->operation_id);
	Datum		credit_type = PointerGetDatum(draw->credit_type);
	Datum		now = TimestampTzGetDatum(draw->now);
	Datum		total = NumericGetDatum(draw->total);
	Datum		service_id = Int64GetDatum(draw->service_id);
	Datum		value;
	bool		isnull;

	set_column(operation, o[OPERATION_ACCOUNT_ID], account_id, false);
	set_column(operation, o[OPERATION_OPERATION_ID], operation_id, false);
	set_column(operation, o[OPERATION_KIND],
			   ObjectIdGetDatum(strcmp(draw->kind, "redeem_service") == 0 ?
								cache.redeem_service_kind : cache.redeem_credits_kind),
			   false);
	value = optional_text(draw->idempotency_key, &isnull);
	set_column(operation, o[OPERATION_IDEMPOTENCY_KEY], value, isnull);
	set_column(operation, o[OPERATION_REQUEST], CStringGetTextDatum(draw->request), false);
	set_column(operation, o[OPERATION_AMOUNT], NumericGetDatum(draw->amount), false);
	set_column(operation, o[OPERATION_CREDIT_TYPE], credit_type, false);
	set_column(operation, o[OPERATION_SERVICE_ID], service_id, !draw->has_service);
	value = optional_text(draw->reference, &isnull);
	set_column(operation, o[OPERATION_REFERENCE], value, isnull);
	set_column(operation, o[OPERATION_CREATED_AT], now, false);
	set_column(operation, o[OPERATION_BALANCE_AFTER], total, false);
	insert_row(call, DIRECT_OPERATIONS, operation);

	set_column(entry, e[ENTRY_ACCOUNT_ID], account_id, false);
	set_column(entry, e[ENTRY_OPERATION_ID], operation_id, false);
	set_column(entry, e[ENTRY_ENTRY_NO], Int32GetDatum(1), false);
	set_column(entry, e[ENTRY_KIND], ObjectIdGetDatum(cache.redeem_entry_kind), false);
	set_column(entry, e[ENTRY_BATCH_ID], Int64GetDatum(draw->batch_id), false);
	set_column(entry, e[ENTRY_CREDIT_TYPE], credit_type, false);
	set_column(entry, e[ENTRY_DELTA],
			   DirectFunctionCall1(numeric_uminus, NumericGetDatum(draw->amount)), false);
	set_column(entry, e[ENTRY_BALANCE_AFTER], total, false);
	set_column(entry, e[ENTRY_SERVICE_ID], service_id, !draw->has_service);
	value = optional_text(draw->reference, &isnull);
	set_column(entry, e[ENTRY_REFERENCE], value, isnull);
	set_column(entry, e[ENTRY_CREATED_AT], now, false);
	insert_row(call, DIRECT_LEDGER, entry);
}

/*
 * Redeems draw->amount from the first spendable batch alone, if it covers
 * it.  CREDITS_DIRECT_WRITTEN: done, with the operation, the batch, its
 * expiry and the running total after filled in.  CREDITS_DIRECT_SHORT:
 * the first batch does not cover the amount (or there is none), nothing
 * written.  CREDITS_DIRECT_UNAVAILABLE: the tables need the SQL
 * statement, nothing written.  Must be called inside SPI_connect, with
 * the account locked.
 */
CreditsDirectResult
credits_redeem_first_batch_directly(CreditsFirstBatch *draw)
{
	DirectCall	call;
	TupleTableSlot *batch;
	TupleTableSlot *total;
	TupleTableSlot *changed;
	Numeric		remaining;
	Numeric		held;
	bool		isnull;

	if (!open_tables(&call))
		return CREDITS_DIRECT_UNAVAILABLE;
	start_call(&call);

	batch = table_row_slot(&call, DIRECT_BATCHES);
	total = table_row_slot(&call, DIRECT_TOTALS);
	if (!find_first_batch(&call, draw, batch) || !find_total(&call, draw, total))
	{
		end_call(&call);
		return CREDITS_DIRECT_SHORT;
	}
	remaining = numeric_column(batch, cache.batch_columns[BATCH_REMAINING]);
	held = numeric_column(batch, cache.batch_columns[BATCH_HELD]);
	if (credits_numeric_cmp(credits_numeric_sub(remaining, held), draw->amount) < 0)
	{
		end_call(&call);
		return CREDITS_DIRECT_SHORT;
	}

	call.command = GetCurrentCommandId(true);

	/* the batch first: under REPEATABLE READ a conflict stops everything here */
	remaining = credits_numeric_sub(remaining, draw->amount);
	changed = changed_row_slot(&call, DIRECT_BATCHES, batch);
	set_column(changed, cache.batch_columns[BATCH_REMAINING], NumericGetDatum(remaining), false);
	set_column(changed, cache.batch_columns[BATCH_IS_OPEN],
			   BoolGetDatum(credits_numeric_cmp(remaining, held) > 0), false);
	draw->batch_id = DatumGetInt64(slot_getattr(batch, cache.batch_columns[BATCH_BATCH_ID],
												&isnull));
	draw->expires_at = DatumGetTimestampTz(slot_getattr(batch,
														cache.batch_columns[BATCH_EXPIRES_AT],
														&isnull));
	update_row(&call, DIRECT_BATCHES, batch, changed);
	draw->operation_id = nextval_internal(cache.operation_sequence, true);

	draw->total = credits_numeric_sub(numeric_column(total, cache.total_columns[TOTAL_TOTAL]),
									  draw->amount);
	changed = changed_row_slot(&call, DIRECT_TOTALS, total);
	set_column(changed, cache.total_columns[TOTAL_TOTAL], NumericGetDatum(draw->total), false);
	update_row(&call, DIRECT_TOTALS, total, changed);

	insert_operation_and_entry(&call, draw);

	end_call(&call);
	/* what the next statement of this transaction reads includes these rows */
	CommandCounterIncrement();
	return CREDITS_DIRECT_WRITTEN;
}
