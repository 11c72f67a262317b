/*-------------------------------------------------------------------------
 *
 * result_types.c
 *	  Builds credits.redemption values (with their credits.allocation[])
 *	  from what a redemption drew, for the first call and for a retry.
 *
 * The type ids and tuple descriptors are looked up once per backend and
 * kept until a change to pg_type invalidates them (for example when the
 * extension is dropped and created again).  This file takes no locks.
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

typedef struct ResultTypeCache
{
	bool		valid;
	MemoryContext context;
	TupleDesc	redemption;
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
	result_types.valid = false;
}

void
credits_result_types_init(void)
{
	result_types.context = AllocSetContextCreate(TopMemoryContext,
												 "credits result types",
												 ALLOCSET_SMALL_SIZES);
	CacheRegisterSyscacheCallback(TYPEOID, invalidate_result_types, (Datum) 0);
}

static void
load_result_types(FunctionCallInfo fcinfo)
{
	TupleDesc	redemption;
	Oid			allocation_array_type;
	MemoryContext old;

	MemoryContextReset(result_types.context);
	old = MemoryContextSwitchTo(result_types.context);

	if (get_call_result_type(fcinfo, NULL, &redemption) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "credits redemption functions must return a composite type");
	result_types.redemption = BlessTupleDesc(CreateTupleDescCopy(redemption));

	allocation_array_type = TupleDescAttr(result_types.redemption, 3)->atttypid;
	result_types.allocation_type = get_element_type(allocation_array_type);
	if (!OidIsValid(result_types.allocation_type))
		elog(ERROR, "credits.redemption.allocations must be an array");
	result_types.allocation =
		BlessTupleDesc(lookup_rowtype_tupdesc_copy(result_types.allocation_type, -1));
	get_typlenbyvalalign(result_types.allocation_type,
						 &result_types.allocation_typlen,
						 &result_types.allocation_typbyval,
						 &result_types.allocation_typalign);

	MemoryContextSwitchTo(old);
	result_types.valid = true;
}

void
credits_allocations_init(CreditsAllocations *allocations)
{
	allocations->count = 0;
	allocations->capacity = 4;
	allocations->batch_ids = palloc(sizeof(int64) * allocations->capacity);
	allocations->amounts = palloc(sizeof(Numeric) * allocations->capacity);
	allocations->expires_at = palloc(sizeof(TimestampTz) * allocations->capacity);
	allocations->balances_after = palloc(sizeof(Numeric) * allocations->capacity);
}

void
credits_allocations_add(CreditsAllocations *allocations, int64 batch_id,
						Numeric amount, TimestampTz expires_at,
						Numeric balance_after)
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
		allocations->balances_after = repalloc(allocations->balances_after,
											   sizeof(Numeric) * allocations->capacity);
	}
	allocations->batch_ids[allocations->count] = batch_id;
	allocations->amounts[allocations->count] = amount;
	allocations->expires_at[allocations->count] = expires_at;
	allocations->balances_after[allocations->count] = balance_after;
	allocations->count++;
}

/*
 * The credits.redemption datum, built in the current memory context
 * (callers switch to theirs before SPI_finish).
 */
Datum
credits_redemption_datum(FunctionCallInfo fcinfo, int64 operation_id,
						 Numeric amount, Numeric balance_after,
						 const CreditsAllocations *allocations)
{
	Datum	   *elements;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	ArrayType  *array;

	if (!result_types.valid)
		load_result_types(fcinfo);

	elements = palloc(sizeof(Datum) * Max(allocations->count, 1));
	for (int i = 0; i < allocations->count; i++)
	{
		Datum		fields[3];
		bool		field_nulls[3] = {false, false, false};

		fields[0] = Int64GetDatum(allocations->batch_ids[i]);
		fields[1] = NumericGetDatum(allocations->amounts[i]);
		fields[2] = TimestampTzGetDatum(allocations->expires_at[i]);
		elements[i] = HeapTupleGetDatum(heap_form_tuple(result_types.allocation,
														fields, field_nulls));
	}
	array = construct_array(elements, allocations->count,
							result_types.allocation_type,
							result_types.allocation_typlen,
							result_types.allocation_typbyval,
							result_types.allocation_typalign);

	values[0] = Int64GetDatum(operation_id);
	values[1] = NumericGetDatum(amount);
	values[2] = NumericGetDatum(balance_after);
	values[3] = PointerGetDatum(array);
	return HeapTupleGetDatum(heap_form_tuple(result_types.redemption, values, nulls));
}
