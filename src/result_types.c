/*-------------------------------------------------------------------------
 *
 * result_types.c
 *	  Builds the composite results of the write paths, with their
 *	  credits.allocation[] lists: credits.redemption and credits.refund
 *	  (operation_id, amount, balance_after, allocations[, membership_id])
 *	  and credits.hold (hold_id, amount, hold_until, allocations,
 *	  membership_id).
 *
 * Each function's result descriptor, and the allocation type, are looked
 * up once per backend and kept until a change to pg_type or pg_proc
 * invalidates them (for example when the extension is dropped, created or
 * updated).  This file takes no locks.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* The result types of our functions: a handful */
#define RESULT_CACHE_SIZE 16

typedef struct ResultType
{
	Oid			function;
	TupleDesc	descriptor;
} ResultType;

typedef struct ResultTypeCache
{
	MemoryContext context;
	int			count;
	ResultType	entries[RESULT_CACHE_SIZE];
	/* the element type of every allocations attribute */
	TupleDesc	allocation;
	Oid			allocation_type;
	int16		allocation_typlen;
	bool		allocation_typbyval;
	char		allocation_typalign;
} ResultTypeCache;

static ResultTypeCache result_types;

static void
invalidate_result_types(Datum arg, int cacheid, uint32 hashvalue)
{
	(void) arg;
	(void) cacheid;
	(void) hashvalue;
	result_types.count = 0;
	result_types.allocation = NULL;
	MemoryContextReset(result_types.context);
}

void
credits_result_types_init(void)
{
	result_types.context = AllocSetContextCreate(TopMemoryContext,
												 "credits result types",
												 ALLOCSET_SMALL_SIZES);
	CacheRegisterSyscacheCallback(TYPEOID, invalidate_result_types, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, invalidate_result_types, (Datum) 0);
}

/*
 * The calling function's result descriptor.  Its fourth attribute is the
 * allocations array, whose element type is loaded with the first one.
 */
static TupleDesc
result_descriptor(FunctionCallInfo fcinfo)
{
	Oid			function = fcinfo->flinfo->fn_oid;
	TupleDesc	descriptor;
	MemoryContext old;

	for (int i = 0; i < result_types.count; i++)
		if (result_types.entries[i].function == function)
			return result_types.entries[i].descriptor;

	if (result_types.count == RESULT_CACHE_SIZE)
		invalidate_result_types((Datum) 0, 0, 0);

	old = MemoryContextSwitchTo(result_types.context);
	if (get_call_result_type(fcinfo, NULL, &descriptor) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "credits functions must return a composite type here");
	descriptor = BlessTupleDesc(CreateTupleDescCopy(descriptor));
	if (result_types.allocation == NULL)
	{
		Oid			array_type = TupleDescAttr(descriptor, 3)->atttypid;

		result_types.allocation_type = get_element_type(array_type);
		if (!OidIsValid(result_types.allocation_type))
			elog(ERROR, "the allocations of a credits result must be an array");
		result_types.allocation =
			BlessTupleDesc(lookup_rowtype_tupdesc_copy(result_types.allocation_type, -1));
		get_typlenbyvalalign(result_types.allocation_type,
							 &result_types.allocation_typlen,
							 &result_types.allocation_typbyval,
							 &result_types.allocation_typalign);
	}
	MemoryContextSwitchTo(old);

	result_types.entries[result_types.count].function = function;
	result_types.entries[result_types.count].descriptor = descriptor;
	result_types.count++;
	return descriptor;
}

void
credits_allocations_init(CreditsAllocations *allocations)
{
	allocations->count = 0;
	allocations->capacity = 4;
	allocations->batch_ids = palloc(sizeof(int64) * allocations->capacity);
	allocations->amounts = palloc(sizeof(Numeric) * allocations->capacity);
	allocations->expires_at = palloc(sizeof(TimestampTz) * allocations->capacity);
}

void
credits_allocations_add(CreditsAllocations *allocations, int64 batch_id,
						Numeric amount, TimestampTz expires_at)
{
	if (allocations->count == allocations->capacity)
	{
		allocations->capacity *= 2;
		allocations->batch_ids = repalloc(allocations->batch_ids,
										  sizeof(int64) * allocations->capacity);
		allocations->amounts = repalloc(allocations->amounts,
										sizeof(Numeric) * allocations->capacity);
		allocations->expires_at = repalloc(allocations->expires_at,
										   sizeof(TimestampTz) * allocations->capacity);
	}
	allocations->batch_ids[allocations->count] = batch_id;
	allocations->amounts[allocations->count] = amount;
	allocations->expires_at[allocations->count] = expires_at;
	allocations->count++;
}

static Datum
allocation_array(const CreditsAllocations *allocations)
{
	Datum	   *elements = palloc(sizeof(Datum) * Max(allocations->count, 1));

	for (int i = 0; i < allocations->count; i++)
	{
		Datum		fields[3];
		bool		nulls[3] = {false, false, false};

		fields[0] = Int64GetDatum(allocations->batch_ids[i]);
		fields[1] = NumericGetDatum(allocations->amounts[i]);
		fields[2] = TimestampTzGetDatum(allocations->expires_at[i]);
		elements[i] = HeapTupleGetDatum(heap_form_tuple(result_types.allocation,
														fields, nulls));
	}
	return PointerGetDatum(construct_array(elements, allocations->count,
										   result_types.allocation_type,
										   result_types.allocation_typlen,
										   result_types.allocation_typbyval,
										   result_types.allocation_typalign));
}

/*
 * A credits.redemption or credits.refund, in the current memory context
 * (callers switch to theirs before SPI_finish).  membership_id (0: none)
 * fills the fifth attribute where the type has one.
 */
Datum
credits_redemption_datum(FunctionCallInfo fcinfo, int64 operation_id,
						 Numeric amount, Numeric balance_after,
						 const CreditsAllocations *allocations, int64 membership_id)
{
	TupleDesc	descriptor = result_descriptor(fcinfo);
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, true};

	values[0] = Int64GetDatum(operation_id);
	values[1] = NumericGetDatum(amount);
	values[2] = NumericGetDatum(balance_after);
	values[3] = allocation_array(allocations);
	values[4] = Int64GetDatum(membership_id);
	nulls[4] = membership_id == 0;
	return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}

/*
 * A credits.hold, in the current memory context.
 */
Datum
credits_hold_datum(FunctionCallInfo fcinfo, int64 hold_id, Numeric amount,
				   bool has_hold_until, TimestampTz hold_until,
				   const CreditsAllocations *allocations, int64 membership_id)
{
	TupleDesc	descriptor = result_descriptor(fcinfo);
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = Int64GetDatum(hold_id);
	values[1] = NumericGetDatum(amount);
	values[2] = TimestampTzGetDatum(hold_until);
	nulls[2] = !has_hold_until;
	values[3] = allocation_array(allocations);
	values[4] = Int64GetDatum(membership_id);
	nulls[4] = membership_id == 0;
	return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
}
