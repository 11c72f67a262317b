/*-------------------------------------------------------------------------
 *
 * direct_read.c
 *	  Reads one row by its bigint primary key through the index and table
 *	  access methods instead of a SQL statement: the account a write locks
 *	  (SELECT ... FOR UPDATE, accounts.c) and the package a grant sells
 *	  (grant.c).  What it saves is the executor's start and end for a
 *	  one-row statement, and for a table of a few pages (the packages) the
 *	  sequential scan the planner picks, which asks the kernel for the
 *	  table's size at every execution.
 *
 *	  A read names its table, the bigint column that is its primary key
 *	  and the columns it returns, with their types.  The relation, its
 *	  primary key index and the column numbers are looked up once per
 *	  backend and again after the relation cache says the table or index
 *	  changed.  The caller's SQL statement runs instead, and a DEBUG1
 *	  message says why, when the table is not a plain table, has
 *	  inheritance children or row-level security, lacks that primary key
 *	  (or it is deferrable) or a column of the type read, the function's
 *	  owner lacks the privileges the statement needs (SELECT, and UPDATE
 *	  to lock), or a lock is asked for in a read-only transaction (the
 *	  statement reports it).
 *
 * Locking
 *	  The table and its primary key index are locked as the statement
 *	  locks them (AccessShareLock, or RowShareLock to lock a row) and kept
 *	  to the end of the transaction, as the executor keeps them.  As SPI
 *	  does before a statement, the command counter is advanced, so that
 *	  what the calling command changed is seen; then the row is read with
 *	  a snapshot taken now (a new one per call under READ COMMITTED, the
 *	  transaction's under REPEATABLE READ).  To lock it, the row is locked
 *	  FOR UPDATE as ExecLockRows does: under READ COMMITTED, after waiting
 *	  for a concurrent writer, the newest version is locked and returned,
 *	  and it counts only if its key is still the one asked for; a row
 *	  deleted meanwhile is not found.  Under REPEATABLE READ a concurrent
 *	  update or delete is a serialization failure, as the statement
 *	  reports it.
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
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* The reads used so far in this backend, for the relation cache callback */
#define MAX_READS 4
static DirectRead *reads_used[MAX_READS];
static int	reads_used_count;

static void
relation_changed(Datum arg pg_attribute_unused(), Oid relid)
{
	for (int i = 0; i < reads_used_count; i++)
		if (relid == InvalidOid || relid == reads_used[i]->relid ||
			relid == reads_used[i]->index)
			reads_used[i]->valid = false;
}

/* Registers the callback with the read's first use in the backend */
static void
register_read(DirectRead *read)
{
	if (reads_used_count == 0)
		CacheRegisterRelcacheCallback(relation_changed, (Datum) 0);
	if (reads_used_count == MAX_READS)
		elog(ERROR, "more than %d direct reads", MAX_READS);
	reads_used[reads_used_count++] = read;
	read->registered = true;
}

/* The column's number, from the table's descriptor; 0 if it has none */
static AttrNumber
column_number(TupleDesc descriptor, const char *name, Oid type)
{
	for (int i = 0; i < descriptor->natts; i++)
	{
		Form_pg_attribute attribute = TupleDescAttr(descriptor, i);

		if (!attribute->attisdropped && strcmp(NameStr(attribute->attname), name) == 0)
			return attribute->atttypid == type ? attribute->attnum : InvalidAttrNumber;
	}
	return InvalidAttrNumber;
}

/*
 * Looks the primary key and columns up, with the table open and locked.
 * The primary key must be the one bigint column key_column, and checked
 * at once (not deferrable).
 */
static void
build_read(DirectRead *read, Relation table)
{
	TupleDesc	descriptor = RelationGetDescr(table);
	Relation	index;
	AttrNumber	key;

	/*
	 * Valid from here on, unless an invalidation read while it is looked up
	 * (the index lock below reads them) says the table or index changed
	 * meanwhile: then the next call looks it up again.
	 */
	read->valid = true;
	read->usable = false;
	read->index = RelationGetPrimaryKeyIndex(table);
	key = column_number(descriptor, read->key_column, INT8OID);
	read->key_attno = key;
	if (!OidIsValid(read->index) || key == InvalidAttrNumber)
	{
		read->valid = false;
		return;
	}
	index = index_open(read->index, AccessShareLock);
	read->usable = index->rd_index->indisvalid && index->rd_index->indimmediate &&
		index->rd_rel->relam == BTREE_AM_OID &&
		index->rd_index->indnkeyatts == 1 && index->rd_index->indkey.values[0] == key;
	index_close(index, NoLock);

	for (int i = 0; read->usable && i < read->count; i++)
	{
		read->columns[i] = column_number(descriptor, read->names[i], read->types[i]);
		read->usable = read->columns[i] != InvalidAttrNumber;
	}
	/* kept only when usable, so that a table without its key is looked at again */
	if (!read->usable)
		read->valid = false;
}

/*
 * NULL if the table is a plain table, without inheritance children or
 * row-level security, which the direct reads and writes can use as a
 * statement would; else why not.
 */
const char *
direct_why_not_plain(Relation table)
{
	if (table->rd_rel->relkind != RELKIND_RELATION || table->rd_rel->relispartition)
		return "a table is not a plain table";
	if (table->rd_rel->relhassubclass)
		return "a table has inheritance children";
	if (table->rd_rel->relrowsecurity)
		return "a table has row-level security";
	return NULL;
}

/* NULL if the table can be read directly, else why the statement must */
static const char *
why_not_direct(DirectRead *read, Relation table)
{
	AclMode		privileges = read->lock_row ? ACL_SELECT | ACL_UPDATE : ACL_SELECT;
	const char *why;

	if (!read->usable)
		return "a table does not have the primary key or the columns it reads";
	if (read->lock_row && XactReadOnly)
		return "the transaction is read-only";
	why = direct_why_not_plain(table);
	if (why != NULL)
		return why;
	if (pg_class_aclcheck(RelationGetRelid(table), GetUserId(), privileges) != ACLCHECK_OK)
		return "the function's owner lacks a privilege on a table";
	return NULL;
}

/*
 * Locks the row found (tid) FOR UPDATE; on success, the slot holds the
 * version locked.  False if it is gone, or now has another key.
 */
static bool
lock_found_row(DirectRead *read, Relation table, ItemPointer tid, Snapshot snapshot,
			   TupleTableSlot *row, int64 key)
{
	TM_FailureData failure;
	TM_Result	result;
	bool		isnull;
	int			flags = TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS;

	if (!IsolationUsesXactSnapshot())
		flags |= TUPLE_LOCK_FLAG_FIND_LAST_VERSION;

	result = credits_lock_row_spinning(table, tid, snapshot, row, flags, &failure);
	switch (result)
	{
		case TM_Ok:
			/* a newer version than the one found: does it still match? */
			if (failure.traversed)
				return DatumGetInt64(slot_getattr(row, read->key_attno, &isnull)) == key;
			return true;
		case TM_SelfModified:
			/* changed by this very command (after the snapshot): as the statement, skip it */
			return false;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update")));
			/* READ COMMITTED follows updates: only a delete gets here */
			return false;
		default:
			elog(ERROR, "unexpected result %d locking a row of \"%s\"", (int) result,
				 RelationGetRelationName(table));
	}
	return false;
}

/*
 * Reads the row whose key is key into values and nulls (read->count of
 * each, copied into the current memory context), locking it FOR UPDATE if
 * the read says so.  CREDITS_READ_FOUND or CREDITS_READ_MISSING; or
 * CREDITS_READ_UNAVAILABLE, having read nothing, if the SQL statement must
 * do it instead.
 */
DirectReadResult
direct_read_row(DirectRead *read, int64 key, Datum *values, bool *nulls)
{
	LOCKMODE	mode = read->lock_row ? RowShareLock : AccessShareLock;
	Relation	table = NULL;
	Relation	index;
	const char *why;
	ScanKeyData scan_key;
	IndexScanDesc scan;
	TupleTableSlot *row;
	Snapshot	snapshot;
	bool		found;

	if (!read->registered)
		register_read(read);
	if (!read->valid)
		read->relid = get_relname_relid(read->table_name,
										get_namespace_oid("credits", false));
	if (OidIsValid(read->relid))
		table = try_table_open(read->relid, mode);
	if (table == NULL)
	{
		read->valid = false;	/* dropped: look up again next time */
		why = "a table is missing";
	}
	else
	{
		/* the lock wait above read invalidations: build with what is locked */
		if (!read->valid)
			build_read(read, table);
		why = why_not_direct(read, table);
	}
	if (why != NULL)
	{
		if (table != NULL)
			table_close(table, NoLock);
		ereport(DEBUG1,
				(errmsg_internal("credits: %s by SQL statement, not directly: %s",
								 read->table_name, why)));
		return CREDITS_READ_UNAVAILABLE;
	}

	index = index_open(read->index, mode);
	/* as SPI before a statement: what the calling command changed is seen */
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	row = table_slot_create(table, NULL);

	ScanKeyInit(&scan_key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
	scan = index_beginscan(table, index, snapshot, 1, 0);
	index_rescan(scan, &scan_key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, row);
	index_endscan(scan);

	if (found && read->lock_row)
	{
		ItemPointerData tid = row->tts_tid;

		found = lock_found_row(read, table, &tid, snapshot, row, key);
	}
	if (found)
	{
		for (int i = 0; i < read->count; i++)
		{
			Form_pg_attribute attribute =
				TupleDescAttr(RelationGetDescr(table), read->columns[i] - 1);

			values[i] = slot_getattr(row, read->columns[i], &nulls[i]);
			if (!nulls[i])
				values[i] = datumCopy(values[i], attribute->attbyval, attribute->attlen);
		}
	}

	ExecDropSingleTupleTableSlot(row);
	UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(table, NoLock);
	return found ? CREDITS_READ_FOUND : CREDITS_READ_MISSING;
}

/*
 * The row read directly, or else by the caller's statement, which takes
 * the key as $1 and returns the read's columns in the read's order.  True
 * if there is such a row.  Must be called inside SPI_connect; the values
 * live until SPI_finish.
 */
bool
direct_read_or_select(DirectRead *read, CreditsStatement *statement, int64 key,
					  Datum *values, bool *nulls)
{
	Datum		parameters[1] = {Int64GetDatum(key)};

	switch (direct_read_row(read, key, values, nulls))
	{
		case CREDITS_READ_FOUND:
			return true;
		case CREDITS_READ_MISSING:
			return false;
		case CREDITS_READ_UNAVAILABLE:
			break;
	}
	if (credits_execute(statement, parameters, NULL, 1) == 0)
		return false;
	for (int i = 0; i < read->count; i++)
		values[i] = credits_result_datum(0, i + 1, &nulls[i]);
	return true;
}
