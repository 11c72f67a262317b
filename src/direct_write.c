/*-------------------------------------------------------------------------
 *
 * direct_write.c
 *	  Reads and writes rows of the credits tables through the table access
 *	  method instead of SQL statements, for the hottest paths
 *	  (direct_redeem.c, direct_hold.c, direct_capture.c, direct_grant.c),
 *	  keeping the statements' rules:
 *	  every CHECK and NOT NULL constraint is evaluated on every row written
 *	  (ExecConstraints), every index entry is inserted and unique indexes
 *	  checked, the columns an insert leaves out get their defaults, the
 *	  table must be a valid target (CheckValidResultRel), and a conflicting
 *	  update under REPEATABLE READ is a serialization failure.  What it
 *	  saves is the executor's fixed cost per statement, above all the CHECK
 *	  constraints and defaults parsed from their stored text again at every
 *	  execution: here they are parsed and planned once per backend, and
 *	  again only after the relation cache says the table or one of its
 *	  indexes changed.  The CHECK constraints' expression states and each
 *	  B-tree index's description (IndexInfo, with a partial index's
 *	  predicate ready to evaluate) are kept the same way, instead of being
 *	  built by every call, when the expressions are of the kinds whose
 *	  evaluation keeps nothing in the statement's memory
 *	  (needs_state_per_call).  A call is never made while another is in
 *	  progress in the backend (a default or CHECK constraint that calls a
 *	  credits function): that one runs the SQL statement, so that no kept
 *	  state is evaluated inside its own evaluation.
 *
 *	  A path names the rows it writes as shapes (direct.h), with their
 *	  columns' names and types.  direct_begin opens their tables and says
 *	  no, writing nothing, unless every table is a plain table with no
 *	  triggers, rules, row-level security, inheritance children or stored
 *	  generated columns, every column has the type the path writes (no
 *	  domain, no type modifier, no identity column written), and the
 *	  function's owner has the privileges the statement would need; the
 *	  caller then runs its SQL statement, so that triggers fire, rules and
 *	  policies apply and missing privileges are reported as the statement
 *	  reports them.  A DEBUG1 message says why.
 *
 * Locking
 *	  The tables are opened with RowExclusiveLock and kept to the end of
 *	  the transaction, also when the statement takes over, as an UPDATE or
 *	  INSERT statement keeps them.  An index searched is locked with
 *	  AccessShareLock and one inserted into with RowExclusiveLock, and
 *	  those locks end with the call, as the executor's end with the
 *	  statement (the statement locks every index of a table it writes when
 *	  it starts; here an index is locked when the first row goes into
 *	  it).  Describing the indexes for the cache, once per backend and
 *	  after a change, locks each with AccessShareLock for that moment
 *	  only, the table being locked already.  No row is locked here: the
 *	  caller holds the account's row lock (accounts.c), which every writer
 *	  of the account's rows holds, and reads with the snapshot direct_begin
 *	  takes after it (a new one per call under READ COMMITTED, the
 *	  transaction's under REPEATABLE READ).
 *
 *-------------------------------------------------------------------------
 */
#include "direct.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

/* An index a path searches, by its leading key columns */
typedef struct DirectIndexInfo
{
	const char *name;			/* NULL: none is searched */
	const char *keys[3];
	int			key_count;
} DirectIndexInfo;

/* What each table is, and what of it a path searches */
typedef struct DirectTableInfo
{
	const char *name;
	DirectIndexInfo indexes[DIRECT_INDEX_COUNT];
	const char *sequence;		/* ids of new rows; NULL: none */
} DirectTableInfo;

static const DirectTableInfo table_info[DIRECT_TABLE_COUNT] = {
	[DIRECT_BATCHES] = {"batches", {
			[DIRECT_SEARCH_INDEX] = {"batches_spendable_idx",
			{"account_id", "credit_type", "expires_at"}, 3},
			[DIRECT_KEY_INDEX] = {"batches_pkey", {"account_id", "batch_id"}, 2}},
	"batch_id_seq"},
	[DIRECT_TOTALS] = {"account_totals", {
			[DIRECT_KEY_INDEX] = {"account_totals_pkey", {"account_id", "credit_type"}, 2}},
	NULL},
	[DIRECT_OPERATIONS] = {"operations", {{NULL}}, "operation_id_seq"},
	[DIRECT_LEDGER] = {"ledger", {{NULL}}, NULL},
	[DIRECT_SALES] = {"sales", {{NULL}}, NULL},
	[DIRECT_HOLDS] = {"holds", {
			[DIRECT_KEY_INDEX] = {"holds_pkey", {"account_id", "hold_id"}, 2}},
	NULL},
	[DIRECT_HOLD_ALLOCATIONS] = {"hold_allocations", {
			[DIRECT_KEY_INDEX] = {"hold_allocations_pkey", {"account_id", "hold_id"}, 2}},
	NULL},
};

/*
 * What is looked up once per backend for each table.  A relation cache
 * invalidation of the table, its searched indexes or its sequence (ALTER
 * TABLE, CREATE TRIGGER, a new constraint, DROP EXTENSION) marks it
 * stale, and so does any change to a function (a CHECK constraint or
 * default may have inlined it) or an enum label; the next call looks it
 * up again, under a new generation, and the shapes on it follow.
 */
typedef struct DirectTableCache
{
	bool		valid;
	bool		usable;			/* the table has what the paths search */
	uint64		generation;
	MemoryContext context;		/* the planned checks and shapes' defaults */
	Oid			relid;
	Oid			indexes[DIRECT_INDEX_COUNT];	/* searched; InvalidOid: none */
	Oid			sequence;
	int			check_count;
	Expr	  **checks;			/* planned, in relation cache order */
	ExprState **check_states;	/* the checks ready to evaluate; NULL: built
								 * per call (needs_state_per_call) */
	bool		indexes_kept;	/* the table's indexes are all B-trees on columns */
	int			index_count;
	Oid		   *index_oids;		/* the table's indexes when looked up */
	IndexInfo **index_infos;	/* and what ExecOpenIndices would build for each */
} DirectTableCache;

static DirectTableCache table_cache[DIRECT_TABLE_COUNT];
static uint64 last_generation;

/*
 * Whether a call is between direct_begin and direct_end, and in which
 * subtransaction it began.  The executor state kept in the cache (the
 * checks, the index predicates) is evaluated by one call at a time: a call
 * made while another is in progress (from a default or a CHECK constraint
 * that calls a credits function) runs the SQL statement instead.
 */
static bool call_in_progress;
static SubTransactionId call_subtransaction;

static void
relation_changed(Datum arg pg_attribute_unused(), Oid relid)
{
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		DirectTableCache *entry = &table_cache[t];

		if (relid == InvalidOid || entry->relid == relid || entry->sequence == relid)
			entry->valid = false;
		for (int i = 0; i < DIRECT_INDEX_COUNT; i++)
			if (entry->indexes[i] == relid)
				entry->valid = false;
		for (int i = 0; i < entry->index_count; i++)
			if (entry->index_oids[i] == relid)
				entry->valid = false;
	}
}

static void
function_or_label_changed(Datum arg pg_attribute_unused(), int cache_id pg_attribute_unused(),
						  uint32 hash pg_attribute_unused())
{
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
		table_cache[t].valid = false;
}

/* A call cut short by an error is over when its (sub)transaction ends */
static void
transaction_ended(XactEvent event pg_attribute_unused(), void *arg pg_attribute_unused())
{
	call_in_progress = false;
}

static void
subtransaction_ended(SubXactEvent event, SubTransactionId subtransaction,
					 SubTransactionId parent pg_attribute_unused(),
					 void *arg pg_attribute_unused())
{
	if (event == SUBXACT_EVENT_ABORT_SUB && subtransaction == call_subtransaction)
		call_in_progress = false;
}

void
credits_direct_init(void)
{
	CacheRegisterRelcacheCallback(relation_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, function_or_label_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(ENUMOID, function_or_label_changed, (Datum) 0);
	RegisterXactCallback(transaction_ended, NULL);
	RegisterSubXactCallback(subtransaction_ended, NULL);
}

/*
 * True if the index is a valid B-tree of the table whose leading key
 * columns are these, in order; for the primary key (whole), also unique
 * and without a predicate, so that a search by those columns finds every
 * row.
 */
static bool
index_leads_with(Relation table, Oid index_oid, const char *const *names, int count,
				 bool whole)
{
	Relation	index = index_open(index_oid, AccessShareLock);
	bool		leads = index->rd_index->indrelid == RelationGetRelid(table) &&
		index->rd_rel->relam == BTREE_AM_OID && index->rd_index->indisvalid &&
		index->rd_index->indnkeyatts >= count;

	if (whole)
		leads = leads && index->rd_index->indisunique &&
			RelationGetIndexPredicate(index) == NIL;
	for (int i = 0; leads && i < count; i++)
		leads = index->rd_index->indkey.values[i] ==
			get_attnum(RelationGetRelid(table), names[i]);
	index_close(index, AccessShareLock);
	return leads;
}

/*
 * True unless the expression may be evaluated by a state built once and
 * kept: only node types whose evaluation keeps nothing in the statement's
 * memory, and compiles in nothing that can change without an invalidation
 * of the table, are listed.  A whole-row reference keeps its row type in
 * the statement's memory, a domain coercion compiles in the domain's
 * constraints; those, and every node type not listed, get a new state in
 * every call.
 */
static bool
needs_state_per_call(Node *node, void *context)
{
	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Var:
			if (((Var *) node)->varattno <= 0)
				return true;
			break;
		case T_ScalarArrayOpExpr:
			if (OidIsValid(((ScalarArrayOpExpr *) node)->hashfuncid))
				return true;
			break;
		case T_List:
		case T_Const:
		case T_FuncExpr:
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
		case T_BoolExpr:
		case T_NullTest:
		case T_BooleanTest:
		case T_RelabelType:
		case T_CoerceViaIO:
		case T_CaseExpr:
		case T_CaseWhen:
		case T_CaseTestExpr:
		case T_CoalesceExpr:
		case T_MinMaxExpr:
		case T_ArrayExpr:
		case T_SQLValueFunction:
			break;
		default:
			return true;
	}
	return expression_tree_walker(node, needs_state_per_call, context);
}

/*
 * What ExecOpenIndices builds for each index of the table at every
 * statement (BuildIndexInfo), and what ExecInsertIndexTuples then
 * prepares (the partial index's predicate), built once, in the current
 * memory context.  Only for B-tree indexes on columns: other access
 * methods keep state of their own in the IndexInfo, and expressions are
 * prepared in the statement's memory.  The table is open and locked.
 */
static void
keep_indexes(DirectTableCache *entry, Relation table)
{
	List	   *index_oids = RelationGetIndexList(table);
	ListCell   *cell;
	int			i = 0;

	/* all the indexes named first, so that an invalidation of any is seen */
	entry->index_oids = palloc(Max(list_length(index_oids), 1) * sizeof(Oid));
	entry->index_infos = palloc(Max(list_length(index_oids), 1) * sizeof(IndexInfo *));
	foreach(cell, index_oids)
		entry->index_oids[i++] = lfirst_oid(cell);
	entry->index_count = i;

	entry->indexes_kept = true;
	for (i = 0; i < entry->index_count; i++)
	{
		Relation	index = index_open(entry->index_oids[i], AccessShareLock);
		IndexInfo  *info = BuildIndexInfo(index);

		if (index->rd_rel->relam != BTREE_AM_OID || info->ii_Expressions != NIL)
			entry->indexes_kept = false;
		if (info->ii_Predicate != NIL)
		{
			List	   *predicate =
				(List *) expression_planner((Expr *) info->ii_Predicate);

			if (needs_state_per_call((Node *) predicate, NULL))
				entry->indexes_kept = false;
			else
				info->ii_PredicateState = ExecInitQual(predicate, NULL);
		}
		entry->index_infos[i] = info;
		index_close(index, AccessShareLock);
	}
	list_free(index_oids);
}

/* Looks the table up again, with it open and locked */
static void
build_table(DirectTable t, Relation table)
{
	DirectTableCache *entry = &table_cache[t];
	const DirectTableInfo *info = &table_info[t];
	Oid			schema = RelationGetNamespace(table);
	TupleConstr *constraints = RelationGetDescr(table)->constr;
	MemoryContext old;
	bool		checks_kept;

	if (entry->context == NULL)
		entry->context = AllocSetContextCreate(TopMemoryContext,
											   "credits direct writes",
											   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(entry->context);

	/*
	 * Valid from here on, unless an invalidation read while it is looked up
	 * (the index locks taken below read them) says the table or an index
	 * changed meanwhile: then this call uses what it found, as a statement
	 * would, and the next call looks it up again.
	 */
	entry->valid = true;
	entry->usable = false;
	entry->generation = ++last_generation;
	entry->checks = NULL;
	entry->check_states = NULL;
	entry->check_count = 0;
	entry->indexes_kept = false;
	entry->index_count = 0;

	/*
	 * Kept only when usable: an index or sequence renamed back or created
	 * sends no invalidation of the table, so a missing one is looked up again
	 */
	for (int i = 0; i < DIRECT_INDEX_COUNT; i++)
		entry->indexes[i] = InvalidOid;
	for (int i = 0; i < DIRECT_INDEX_COUNT; i++)
	{
		const DirectIndexInfo *index = &info->indexes[i];

		if (index->name == NULL)
			continue;
		entry->indexes[i] = get_relname_relid(index->name, schema);
		if (!OidIsValid(entry->indexes[i]) ||
			!index_leads_with(table, entry->indexes[i], index->keys, index->key_count,
							  i == DIRECT_KEY_INDEX))
		{
			entry->valid = false;
			return;
		}
	}
	entry->sequence = InvalidOid;
	if (info->sequence != NULL)
	{
		entry->sequence = get_relname_relid(info->sequence, schema);
		if (!OidIsValid(entry->sequence))
		{
			entry->valid = false;
			return;
		}
	}

	/*
	 * CHECK constraints, parsed, planned and made ready to evaluate as
	 * ExecRelCheck would at each statement
	 */
	entry->check_count = constraints ? constraints->num_check : 0;
	old = MemoryContextSwitchTo(entry->context);
	if (entry->check_count > 0)
		entry->checks = palloc(entry->check_count * sizeof(Expr *));
	checks_kept = true;
	for (int i = 0; i < entry->check_count; i++)
	{
		entry->checks[i] =
			expression_planner((Expr *) stringToNode(constraints->check[i].ccbin));
		if (needs_state_per_call((Node *) entry->checks[i], NULL))
			checks_kept = false;
	}
	if (entry->check_count > 0 && checks_kept)
	{
		entry->check_states = palloc(entry->check_count * sizeof(ExprState *));
		for (int i = 0; i < entry->check_count; i++)
			entry->check_states[i] = ExecInitExpr(entry->checks[i], NULL);
	}
	keep_indexes(entry, table);
	MemoryContextSwitchTo(old);
	entry->usable = true;
}

/* True if the column has the type the shape writes, with no modifier */
static bool
has_written_type(Form_pg_attribute attribute, Oid type)
{
	if (attribute->atttypmod != -1)
		return false;
	if (type == DIRECT_ENUM)
		return get_typtype(attribute->atttypid) == TYPTYPE_ENUM;
	return attribute->atttypid == type;
}

/*
 * Plans the column's default, as the INSERT statement would fill it in.
 * False if there are more defaults than the shape has room for.
 */
static bool
add_default(DirectShape *shape, Relation table, AttrNumber attno, int optional)
{
	Node	   *default_value = build_column_default(table, attno);

	if (default_value == NULL)
		return true;
	if (shape->default_count == lengthof(shape->defaults))
		return false;
	shape->default_columns[shape->default_count] = attno;
	shape->defaults[shape->default_count] = expression_planner((Expr *) default_value);
	shape->default_optional[shape->default_count] = optional;
	shape->default_count++;
	return true;
}

/*
 * Looks the shape's columns up, and for an insert the defaults of the
 * columns it leaves out or may leave out.  Unusable if a column is
 * missing or of another type (a domain, a type modifier), or if an
 * insert would write an identity or generated column.
 */
static void
build_shape(DirectShape *shape, Relation table)
{
	DirectTableCache *entry = &table_cache[shape->table];
	TupleDesc	descriptor = RelationGetDescr(table);
	MemoryContext old;

	Assert(shape->count <= DIRECT_MAX_COLUMNS);
	shape->generation = entry->generation;
	shape->usable = false;
	shape->default_count = 0;
	shape->label_count = 0;

	for (int i = 0; i < shape->count; i++)
	{
		Form_pg_attribute attribute;

		shape->columns[i] = get_attnum(RelationGetRelid(table), shape->names[i]);
		if (shape->columns[i] == InvalidAttrNumber)
			return;
		attribute = TupleDescAttr(descriptor, shape->columns[i] - 1);
		if (!has_written_type(attribute, shape->types[i]))
			return;
		if (shape->insert && (attribute->attgenerated ||
							  attribute->attidentity == ATTRIBUTE_IDENTITY_ALWAYS))
			return;
	}
	if (!shape->insert)
	{
		shape->usable = true;
		return;
	}

	old = MemoryContextSwitchTo(entry->context);
	for (int attno = 1; attno <= descriptor->natts; attno++)
	{
		Form_pg_attribute attribute = TupleDescAttr(descriptor, attno - 1);
		bool		always_written = false;
		int			optional = -1;

		if (attribute->attisdropped)
			continue;
		for (int i = 0; i < shape->count; i++)
		{
			if (shape->columns[i] != attno)
				continue;
			if ((shape->optional & (1u << i)) != 0)
				optional = i;
			else
				always_written = true;
		}
		if (always_written)
			continue;
		/* a domain: the statement would check its constraints on null */
		if (get_typtype(attribute->atttypid) == TYPTYPE_DOMAIN ||
			!add_default(shape, table, attno, optional))
		{
			MemoryContextSwitchTo(old);
			return;
		}
	}
	MemoryContextSwitchTo(old);
	shape->usable = true;
}

/*
 * NULL if the table can be written directly with these privileges, else
 * why the SQL statement must do the work instead.
 */
static const char *
why_not_direct(DirectTable t, Relation table, AclMode privileges)
{
	TupleConstr *constraints = RelationGetDescr(table)->constr;
	const char *why = direct_why_not_plain(table);

	if (why != NULL)
		return why;
	if (table->trigdesc != NULL)
		return "a table has triggers";
	if (table->rd_rules != NULL)
		return "a table has rules";
	if (constraints != NULL && constraints->has_generated_stored)
		return "a table has generated columns";
	if ((constraints ? constraints->num_check : 0) != table_cache[t].check_count)
		return "a table's CHECK constraints changed";
	if (pg_class_aclcheck(RelationGetRelid(table), GetUserId(), privileges) != ACLCHECK_OK)
		return "the function's owner lacks a privilege on a table";
	return NULL;
}

/*
 * Opens the shapes' tables.  NULL, with them open, if they can be written
 * directly; else why not, with those that could be opened closed (their
 * locks kept, as the statement will take them).
 */
static const char *
open_tables(DirectCall *call, DirectShape *const *shapes, int shape_count)
{
	AclMode		privileges[DIRECT_TABLE_COUNT] = {0};
	bool		all_open = true;
	const char *why = NULL;
	Oid			schema = InvalidOid;

	for (int s = 0; s < shape_count; s++)
	{
		call->open[shapes[s]->table] = true;
		privileges[shapes[s]->table] |= shapes[s]->privileges;
	}
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		call->tables[t] = NULL;
		if (!call->open[t])
			continue;
		if (!table_cache[t].valid)
		{
			if (!OidIsValid(schema))
				schema = get_namespace_oid("credits", false);
			table_cache[t].relid = get_relname_relid(table_info[t].name, schema);
		}
		if (OidIsValid(table_cache[t].relid))
			call->tables[t] = try_table_open(table_cache[t].relid, RowExclusiveLock);
		all_open = all_open && call->tables[t] != NULL;
	}

	/* the lock waits above read invalidations: build with what is locked */
	for (int t = 0; all_open && t < DIRECT_TABLE_COUNT; t++)
		if (call->open[t] && !table_cache[t].valid)
			build_table(t, call->tables[t]);
	for (int s = 0; all_open && s < shape_count; s++)
		if (shapes[s]->generation != table_cache[shapes[s]->table].generation)
			build_shape(shapes[s], call->tables[shapes[s]->table]);

	if (!all_open)
		why = "a table is missing";
	for (int t = 0; why == NULL && t < DIRECT_TABLE_COUNT; t++)
		if (call->open[t] && !table_cache[t].usable)
			why = "a table does not have the indexes or sequence it uses";
	for (int s = 0; why == NULL && s < shape_count; s++)
		if (!shapes[s]->usable)
			why = "a table does not have the columns it writes, of the types it writes";
	for (int t = 0; why == NULL && t < DIRECT_TABLE_COUNT; t++)
		if (call->open[t])
			why = why_not_direct(t, call->tables[t], privileges[t]);
	if (why == NULL)
		return NULL;

	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		if (call->tables[t] != NULL)
			table_close(call->tables[t], NoLock);
		if (call->open[t] && call->tables[t] == NULL)
			table_cache[t].valid = false;	/* dropped: look up again next time */
		call->open[t] = false;
	}
	return why;
}

/*
 * Opens the tables the shapes write and starts a call on them, with a
 * snapshot taken now.  False, with nothing to end, if the SQL statement
 * must do the work instead.  Must be called inside SPI_connect, after the
 * account lock.
 */
bool
direct_begin(DirectCall *call, const char *what, DirectShape *const *shapes,
			 int shape_count)
{
	const char *why;
	MemoryContext old;

	memset(call, 0, sizeof(DirectCall));
	if (call_in_progress)
		why = "a call within a call";
	else
	{
		/* from here, as a call looking the cache up may evaluate a function */
		call_in_progress = true;
		call_subtransaction = GetCurrentSubTransactionId();
		why = open_tables(call, shapes, shape_count);
		if (why != NULL)
			call_in_progress = false;
	}
	if (why != NULL)
	{
		ereport(DEBUG1,
				(errmsg_internal("credits: %s by SQL statement, not directly: %s", what, why)));
		return false;
	}

	call->estate = CreateExecutorState();
	old = MemoryContextSwitchTo(call->estate->es_query_cxt);
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		ResultRelInfo *result = &call->results[t];
		DirectTableCache *entry = &table_cache[t];

		if (!call->open[t])
			continue;
		InitResultRelInfo(result, call->tables[t], 0, NULL, 0);
		if (entry->check_states != NULL)
			result->ri_ConstraintExprs = entry->check_states;
		else if (entry->check_count > 0)
		{
			result->ri_ConstraintExprs = palloc(entry->check_count * sizeof(ExprState *));
			for (int i = 0; i < entry->check_count; i++)
				result->ri_ConstraintExprs[i] = ExecInitExpr(entry->checks[i], NULL);
		}
	}
	MemoryContextSwitchTo(old);

	PushActiveSnapshot(GetTransactionSnapshot());
	call->snapshot = GetActiveSnapshot();
	call->estate->es_snapshot = call->snapshot;
	call->command = GetCurrentCommandId(true);
	return true;
}

/*
 * Ends a call begun, written or not.  What the next statement of the
 * transaction reads includes the rows written.
 */
void
direct_end(DirectCall *call)
{
	PopActiveSnapshot();
	ExecResetTupleTable(call->estate->es_tupleTable, false);
	for (int t = 0; t < DIRECT_TABLE_COUNT; t++)
	{
		if (!call->open[t])
			continue;
		if (call->indexes_open[t])
			ExecCloseIndices(&call->results[t]);
		table_close(call->tables[t], NoLock);
	}
	FreeExecutorState(call->estate);
	call_in_progress = false;
	CommandCounterIncrement();
}

/* A slot for rows read from the table */
TupleTableSlot *
direct_table_slot(DirectCall *call, DirectTable table)
{
	Relation	relation = call->tables[table];
	MemoryContext old = MemoryContextSwitchTo(call->estate->es_query_cxt);
	TupleTableSlot *slot = ExecInitExtraTupleSlot(call->estate, RelationGetDescr(relation),
												  table_slot_callbacks(relation));

	MemoryContextSwitchTo(old);
	return slot;
}

static TupleTableSlot *
empty_row(DirectCall *call, DirectTable table)
{
	MemoryContext old = MemoryContextSwitchTo(call->estate->es_query_cxt);
	TupleTableSlot *slot = ExecInitExtraTupleSlot(call->estate,
												  RelationGetDescr(call->tables[table]),
												  &TTSOpsVirtual);

	MemoryContextSwitchTo(old);
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts * sizeof(bool));
	return slot;
}

/*
 * A new row of the shape's table: the columns the shape leaves out, and
 * the optional ones the statement does not name (bit i of named: names[i]),
 * hold their defaults (or null); the others are to be set.  A default is
 * evaluated only where the statement would evaluate it, so that one with
 * a side effect (a sequence's nextval) has it as often.
 */
TupleTableSlot *
direct_new_row(DirectCall *call, const DirectShape *shape, uint32 named)
{
	TupleTableSlot *slot = empty_row(call, shape->table);
	ExprContext *context = GetPerTupleExprContext(call->estate);
	MemoryContext old = MemoryContextSwitchTo(call->estate->es_query_cxt);

	Assert(shape->insert);
	Assert((named & ~shape->optional) == 0);
	for (int i = 0; i < shape->default_count; i++)
	{
		AttrNumber	column = shape->default_columns[i];
		int			optional = shape->default_optional[i];
		ExprState  *state;

		if (optional >= 0 && (named & (1u << optional)) != 0)
			continue;
		state = ExecInitExpr(shape->defaults[i], NULL);

		slot->tts_values[column - 1] =
			ExecEvalExprSwitchContext(state, context, &slot->tts_isnull[column - 1]);
	}
	MemoryContextSwitchTo(old);
	return slot;
}

/* A copy of a row read, to be changed */
TupleTableSlot *
direct_changed_row(DirectCall *call, DirectTable table, TupleTableSlot *read)
{
	TupleTableSlot *slot = empty_row(call, table);
	int			natts = slot->tts_tupleDescriptor->natts;

	slot_getallattrs(read);
	memcpy(slot->tts_values, read->tts_values, natts * sizeof(Datum));
	memcpy(slot->tts_isnull, read->tts_isnull, natts * sizeof(bool));
	return slot;
}

void
direct_set(TupleTableSlot *slot, const DirectShape *shape, int column, Datum value,
		   bool isnull)
{
	AttrNumber	attno = shape->columns[column];

	slot->tts_values[attno - 1] = value;
	slot->tts_isnull[attno - 1] = isnull;
}

Datum
direct_get(TupleTableSlot *slot, const DirectShape *shape, int column, bool *isnull)
{
	return slot_getattr(slot, shape->columns[column], isnull);
}

/* The value of an enum label for the shape's column, looked up once */
Oid
direct_label(DirectShape *shape, int column, const char *label)
{
	Oid			type;
	Oid			value;

	for (int i = 0; i < shape->label_count; i++)
		if (strcmp(shape->labels[i], label) == 0)
			return shape->label_oids[i];
	type = get_atttype(table_cache[shape->table].relid, shape->columns[column]);
	value = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(label),
												 ObjectIdGetDatum(type)));
	if (shape->label_count < DIRECT_MAX_LABELS)
	{
		shape->labels[shape->label_count] = label;
		shape->label_oids[shape->label_count] = value;
		shape->label_count++;
	}
	return value;
}

/*
 * Opens the table's indexes as ExecOpenIndices does, with RowExclusiveLock,
 * giving each the IndexInfo kept in the cache; an index the cache does
 * not know gets a new one, as ExecOpenIndices would build it.
 */
static void
open_indexes(DirectCall *call, DirectTable table)
{
	ResultRelInfo *result = &call->results[table];
	DirectTableCache *entry = &table_cache[table];
	List	   *index_oids;
	ListCell   *cell;
	int			i = 0;

	if (!entry->indexes_kept)
	{
		ExecOpenIndices(result, false);
		return;
	}
	index_oids = RelationGetIndexList(call->tables[table]);
	result->ri_NumIndices = list_length(index_oids);
	result->ri_IndexRelationDescs =
		MemoryContextAlloc(call->estate->es_query_cxt,
						   Max(result->ri_NumIndices, 1) * sizeof(Relation));
	result->ri_IndexRelationInfo =
		MemoryContextAlloc(call->estate->es_query_cxt,
						   Max(result->ri_NumIndices, 1) * sizeof(IndexInfo *));
	foreach(cell, index_oids)
	{
		Relation	index = index_open(lfirst_oid(cell), RowExclusiveLock);
		IndexInfo  *info = NULL;

		for (int k = 0; k < entry->index_count && info == NULL; k++)
			if (entry->index_oids[k] == lfirst_oid(cell))
				info = entry->index_infos[k];
		if (info != NULL && info->ii_ReadyForInserts != index->rd_index->indisready)
			info = NULL;		/* changed since: not seen by the cache yet */
		if (info == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(call->estate->es_query_cxt);

			info = BuildIndexInfo(index);
			MemoryContextSwitchTo(old);
		}
		result->ri_IndexRelationDescs[i] = index;
		result->ri_IndexRelationInfo[i] = info;
		i++;
	}
	list_free(index_oids);
}

static void
insert_index_entries(DirectCall *call, DirectTable table, TupleTableSlot *slot,
					 bool update)
{
	ResultRelInfo *result = &call->results[table];

	if (!call->indexes_open[table])
	{
		open_indexes(call, table);
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

/* Inserts the row, as INSERT does: constraints, the row, its index entries */
void
direct_insert(DirectCall *call, DirectTable table, TupleTableSlot *row)
{
	ExecStoreVirtualTuple(row);
	CheckValidResultRel(&call->results[table], CMD_INSERT);
	check_constraints(call, table, row);
	table_tuple_insert(call->tables[table], row, call->command, 0, NULL);
	insert_index_entries(call, table, row, false);
}

/*
 * Replaces the row read by the changed one, as UPDATE does: constraints,
 * the new version, index entries unless it is a HOT update.
 */
void
direct_update(DirectCall *call, DirectTable table, TupleTableSlot *read,
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

/* The next id from the table's sequence, as nextval() */
int64
direct_next_id(DirectTable table)
{
	return nextval_internal(table_cache[table].sequence, true);
}

/* An index a path searches in the table, locked as a scan would */
Relation
direct_open_index(DirectTable table, DirectIndex which)
{
	return index_open(table_cache[table].indexes[which], AccessShareLock);
}

/*
 * The rows of the table whose primary key starts with the account and the
 * id given, in the key's order: index_getnext_slot on the scan returned,
 * then direct_key_scan_end.
 */
IndexScanDesc
direct_key_scan_begin(DirectCall *call, DirectTable table, int64 account_id, int64 id)
{
	Relation	index = direct_open_index(table, DIRECT_KEY_INDEX);
	ScanKeyData keys[2];
	IndexScanDesc scan;

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(account_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	scan = index_beginscan(call->tables[table], index, call->snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	return scan;
}

void
direct_key_scan_end(IndexScanDesc scan)
{
	Relation	index = scan->indexRelation;

	index_endscan(scan);
	index_close(index, NoLock);
}

/* The table's row with this account and id, its primary key; false if none */
bool
direct_find_by_key(DirectCall *call, DirectTable table, int64 account_id, int64 id,
				   TupleTableSlot *row)
{
	IndexScanDesc scan = direct_key_scan_begin(call, table, account_id, id);
	bool		found = index_getnext_slot(scan, ForwardScanDirection, row);

	direct_key_scan_end(scan);
	return found;
}

/* The leading keys of both indexes searched: the account and credit type */
void
direct_account_credit_type_keys(ScanKeyData *keys, Relation index, int64 account_id,
								 text *credit_type)
{
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(account_id));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[1], F_TEXTEQ,
						   PointerGetDatum(credit_type));
}

/*
 * The running total, read and changed in place: the statements that move
 * it read it and update it
 */
static const char *const total_columns[] = {"total"};
static const Oid total_types[] = {NUMERICOID};

DirectShape direct_total_shape = {
	.table = DIRECT_TOTALS, .privileges = ACL_SELECT | ACL_UPDATE,
	.names = total_columns, .types = total_types, .count = 1
};

/* The statements that insert an operation read its id back (RETURNING) */
DirectShape direct_operation_returned_shape = {
	.table = DIRECT_OPERATIONS, .privileges = ACL_SELECT
};

/* The account's running total of the credit type, by primary key */
bool
direct_find_total(DirectCall *call, int64 account_id, text *credit_type,
				  TupleTableSlot *total)
{
	Relation	index = direct_open_index(DIRECT_TOTALS, DIRECT_KEY_INDEX);
	ScanKeyData keys[2];
	IndexScanDesc scan;
	bool		found;

	direct_account_credit_type_keys(keys, index, account_id, credit_type);
	scan = index_beginscan(call->tables[DIRECT_TOTALS], index, call->snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, total);
	index_endscan(scan);
	index_close(index, NoLock);
	return found;
}

/*
 * Sets the running total found by direct_find_total to after, through the
 * path's shape of it (direct_total_shape, or one asking more privileges)
 */
void
direct_update_total(DirectCall *call, const DirectShape *shape, TupleTableSlot *total,
					Numeric after)
{
	TupleTableSlot *changed = direct_changed_row(call, DIRECT_TOTALS, total);

	Assert(shape->table == DIRECT_TOTALS && shape->count == 1);
	direct_set(changed, shape, 0, NumericGetDatum(after), false);
	direct_update(call, DIRECT_TOTALS, total, changed);
}

/* The operation row and the ledger entry row, as every path writes them */
enum
{
	OPERATION_ACCOUNT_ID, OPERATION_OPERATION_ID, OPERATION_KIND,
	OPERATION_IDEMPOTENCY_KEY, OPERATION_REQUEST, OPERATION_AMOUNT,
	OPERATION_CREDIT_TYPE, OPERATION_SERVICE_ID, OPERATION_PACKAGE_ID,
	OPERATION_REFERENCE, OPERATION_CREATED_AT, OPERATION_BALANCE_AFTER,
	OPERATION_REFUND_OF, OPERATION_HOLD_ID, OPERATION_MEMBERSHIP_ID,
	OPERATION_COLUMN_COUNT
};

static const char *const operation_columns[OPERATION_COLUMN_COUNT] = {
	"account_id", "operation_id", "kind", "idempotency_key", "request", "amount",
	"credit_type", "service_id", "package_id", "reference", "created_at", "balance_after",
	"refund_of", "hold_id", "membership_id"
};

static const Oid operation_types[OPERATION_COLUMN_COUNT] = {
	INT8OID, INT8OID, DIRECT_ENUM, TEXTOID, TEXTOID, NUMERICOID,
	TEXTOID, INT8OID, INT8OID, TEXTOID, TIMESTAMPTZOID, NUMERICOID,
	INT8OID, INT8OID, INT8OID
};

DirectShape direct_operation_shape = {
	.table = DIRECT_OPERATIONS, .insert = true, .privileges = ACL_INSERT,
	.names = operation_columns, .types = operation_types, .count = OPERATION_COLUMN_COUNT,
	.optional = (1u << OPERATION_SERVICE_ID) | (1u << OPERATION_PACKAGE_ID) |
	(1u << OPERATION_REFUND_OF) | (1u << OPERATION_HOLD_ID) | (1u << OPERATION_MEMBERSHIP_ID)
};

enum
{
	ENTRY_ACCOUNT_ID, ENTRY_OPERATION_ID, ENTRY_ENTRY_NO, ENTRY_KIND,
	ENTRY_BATCH_ID, ENTRY_CREDIT_TYPE, ENTRY_DELTA, ENTRY_BALANCE_AFTER,
	ENTRY_SERVICE_ID, ENTRY_REFERENCE, ENTRY_CREATED_AT, ENTRY_COLUMN_COUNT
};

static const char *const entry_columns[ENTRY_COLUMN_COUNT] = {
	"account_id", "operation_id", "entry_no", "kind", "batch_id", "credit_type",
	"delta", "balance_after", "service_id", "reference", "created_at"
};

static const Oid entry_types[ENTRY_COLUMN_COUNT] = {
	INT8OID, INT8OID, INT4OID, DIRECT_ENUM, INT8OID, TEXTOID,
	NUMERICOID, NUMERICOID, INT8OID, TEXTOID, TIMESTAMPTZOID
};

DirectShape direct_entry_shape = {
	.table = DIRECT_LEDGER, .insert = true, .privileges = ACL_INSERT,
	.names = entry_columns, .types = entry_types, .count = ENTRY_COLUMN_COUNT,
	.optional = 1u << ENTRY_SERVICE_ID
};

void
direct_insert_operation(DirectCall *call, const DirectOperationRow *row)
{
	DirectShape *shape = &direct_operation_shape;
	uint32		named = 0;
	TupleTableSlot *slot;

	if (row->writes_service_id)
		named |= 1u << OPERATION_SERVICE_ID;
	if (row->writes_package_id)
		named |= 1u << OPERATION_PACKAGE_ID;
	if (row->writes_links)
		named |= (1u << OPERATION_REFUND_OF) | (1u << OPERATION_HOLD_ID) |
			(1u << OPERATION_MEMBERSHIP_ID);
	slot = direct_new_row(call, shape, named);

	direct_set(slot, shape, OPERATION_ACCOUNT_ID, Int64GetDatum(row->account_id), false);
	direct_set(slot, shape, OPERATION_OPERATION_ID, Int64GetDatum(row->operation_id), false);
	direct_set(slot, shape, OPERATION_KIND,
			   ObjectIdGetDatum(direct_label(shape, OPERATION_KIND, row->kind)), false);
	direct_set(slot, shape, OPERATION_IDEMPOTENCY_KEY, PointerGetDatum(row->idempotency_key),
			   row->idempotency_key == NULL);
	direct_set(slot, shape, OPERATION_REQUEST, CStringGetTextDatum(row->request), false);
	direct_set(slot, shape, OPERATION_AMOUNT, NumericGetDatum(row->amount), false);
	direct_set(slot, shape, OPERATION_CREDIT_TYPE, PointerGetDatum(row->credit_type), false);
	if (row->writes_service_id)
		direct_set(slot, shape, OPERATION_SERVICE_ID, Int64GetDatum(row->service_id),
				   !row->has_service);
	if (row->writes_package_id)
		direct_set(slot, shape, OPERATION_PACKAGE_ID, Int64GetDatum(row->package_id),
				   !row->has_package);
	direct_set(slot, shape, OPERATION_REFERENCE, PointerGetDatum(row->reference),
			   row->reference == NULL);
	direct_set(slot, shape, OPERATION_CREATED_AT, TimestampTzGetDatum(row->created_at), false);
	direct_set(slot, shape, OPERATION_BALANCE_AFTER, NumericGetDatum(row->balance_after),
			   false);
	if (row->writes_links)
	{
		direct_set(slot, shape, OPERATION_REFUND_OF, Int64GetDatum(row->refund_of),
				   row->refund_of == 0);
		direct_set(slot, shape, OPERATION_HOLD_ID, Int64GetDatum(row->hold_id),
				   row->hold_id == 0);
		direct_set(slot, shape, OPERATION_MEMBERSHIP_ID, Int64GetDatum(row->membership_id),
				   row->membership_id == 0);
	}
	direct_insert(call, DIRECT_OPERATIONS, slot);
}

void
direct_insert_entry(DirectCall *call, const DirectEntryRow *row)
{
	DirectShape *shape = &direct_entry_shape;
	TupleTableSlot *slot = direct_new_row(call, shape,
										  row->writes_service_id ? 1u << ENTRY_SERVICE_ID : 0);

	direct_set(slot, shape, ENTRY_ACCOUNT_ID, Int64GetDatum(row->account_id), false);
	direct_set(slot, shape, ENTRY_OPERATION_ID, Int64GetDatum(row->operation_id), false);
	direct_set(slot, shape, ENTRY_ENTRY_NO, Int32GetDatum(row->entry_no), false);
	direct_set(slot, shape, ENTRY_KIND,
			   ObjectIdGetDatum(direct_label(shape, ENTRY_KIND, row->kind)), false);
	direct_set(slot, shape, ENTRY_BATCH_ID, Int64GetDatum(row->batch_id), false);
	direct_set(slot, shape, ENTRY_CREDIT_TYPE, PointerGetDatum(row->credit_type), false);
	direct_set(slot, shape, ENTRY_DELTA, NumericGetDatum(row->delta), false);
	direct_set(slot, shape, ENTRY_BALANCE_AFTER, NumericGetDatum(row->balance_after), false);
	if (row->writes_service_id)
		direct_set(slot, shape, ENTRY_SERVICE_ID, Int64GetDatum(row->service_id),
				   !row->has_service);
	direct_set(slot, shape, ENTRY_REFERENCE, PointerGetDatum(row->reference),
			   row->reference == NULL);
	direct_set(slot, shape, ENTRY_CREATED_AT, TimestampTzGetDatum(row->created_at), false);
	direct_insert(call, DIRECT_LEDGER, slot);
}
