/*-------------------------------------------------------------------------
 *
 * lock_spin.c
 *	  Waiting for a row lock held by another transaction: first spin, for
 *	  at most credits.account_lock_spin microseconds, while the holder is
 *	  running, and take the row the moment it ends; only then sleep in
 *	  the row's queue, as PostgreSQL's own wait does.
 *
 *	  Why: when many calls queue on one account, PostgreSQL's wait puts
 *	  each of them to sleep, and every hand-off of the row has to wake one
 *	  and wait for the kernel to run it; a queue, once it stands, never
 *	  drains (a lock convoy).  The holder of an account lock only writes a
 *	  few rows and commits, which takes less time than a sleep and a
 *	  wake-up, so a waiter that watches the holder gets the row sooner.
 *	  It spins only while the holder is working: when the holder waits
 *	  for something that may last (its client, a lock, the disk, another
 *	  process, a timeout), the waiter sleeps at once.  A spinning waiter
 *	  can take the row ahead of one that sleeps in the queue, as any
 *	  transaction that arrives while the row is free can.
 *
 * Locking
 *	  The row is locked by table_tuple_lock, as ExecLockRows locks it:
 *	  without waiting while spinning (LockWaitSkip: each try takes the
 *	  row's heavyweight tuple lock and tries the holder's transaction lock,
 *	  both only if free, and lets them go), then waiting (LockWaitBlock).
 *	  Finding the holder takes ProcArrayLock in shared mode twice;
 *	  watching it reads its PGPROC's xid and wait event without a lock, as
 *	  pg_stat_activity reads them: they are hints, and table_tuple_lock
 *	  decides.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/s_lock.h"
#include "utils/wait_event.h"

/* the GUC credits.account_lock_spin, in microseconds; 0 sleeps at once */
int			credits_account_lock_spin = 100;

/* spin delays between two looks at the clock */
#define SPINS_PER_CLOCK_READ 16

/*
 * True if the holder's wait, as PGPROC's wait_event_info says it, may last
 * longer than a spin: for its client, a heavyweight lock, a buffer pin,
 * an extension, a timeout, I/O (the WAL flush of a synchronous commit),
 * another process (a page being read, a synchronous standby, parallel
 * workers, ...) but for the group updates of a commit, or another
 * process's WAL flush.  Other lightweight locks, the group updates and no
 * wait keep the waiter spinning.
 */
static bool
wait_may_last(uint32 wait_event_info)
{
	switch (wait_event_info & 0xFF000000U)
	{
		case PG_WAIT_CLIENT:
		case PG_WAIT_LOCK:
		case PG_WAIT_BUFFER_PIN:
		case PG_WAIT_EXTENSION:
		case PG_WAIT_TIMEOUT:
		case PG_WAIT_IO:
			return true;
		case PG_WAIT_IPC:
			return wait_event_info != WAIT_EVENT_PROCARRAY_GROUP_UPDATE &&
				wait_event_info != WAIT_EVENT_XACT_GROUP_UPDATE;
		case PG_WAIT_LWLOCK:
			/* waiting for another process to flush the WAL */
			return wait_event_info == (PG_WAIT_LWLOCK | WALWriteLock->tranche);
		default:
			return false;
	}
}

/* True while the spin that started at start has time left */
static bool
spin_time_left(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_MICROSEC(now) < (uint64) credits_account_lock_spin;
}

/*
 * The process whose top-level transaction is xid, or NULL if there is
 * none: it has just ended, or xid is a subtransaction's or a prepared
 * transaction's.  A multixact (several transactions sharing a lock on the
 * row) is not told apart: its number is looked up as a transaction's, is
 * seldom a running one's, and if it is, the spin on that process is
 * bounded by credits.account_lock_spin like any other.
 */
static PGPROC *
holder_of(TransactionId xid)
{
	int			pid = BackendXidGetPid(xid);

	return pid == 0 ? NULL : BackendPidGetProc(pid);
}

/*
 * Spins while the transaction xid, whose process is holder, runs and
 * works, and the spin that started at start has time left (the clock is
 * read after every SPINS_PER_CLOCK_READ delays).  True if the transaction
 * has ended; false if the time is up or the holder waits for something
 * that may last.
 */
static bool
spin_while_working(PGPROC *holder, TransactionId xid, instr_time start)
{
	volatile PGPROC *watched = holder;

	do
	{
		for (int i = 0; i < SPINS_PER_CLOCK_READ; i++)
		{
			if (watched->xid != xid)
				return true;
			if (wait_may_last(watched->wait_event_info))
				return false;
			SPIN_DELAY();
		}
		CHECK_FOR_INTERRUPTS();
	} while (spin_time_left(start));
	return false;
}

/*
 * After a try that would have waited: true if the row is worth trying
 * again at once, because the try was led to a newer version (tried is
 * where it started; its holder is known once it is tried) or the holder
 * failure names has ended while this process spun.  False if the holder
 * is unknown or waits for something that may last, or the time is up.
 */
static bool
spin_until_free(ItemPointer tried, ItemPointer tid, TM_FailureData *failure,
				instr_time start)
{
	PGPROC	   *holder;

	if (!ItemPointerEquals(tried, tid))
	{
		CHECK_FOR_INTERRUPTS();
		return true;
	}
	holder = TransactionIdIsNormal(failure->xmax) ? holder_of(failure->xmax) : NULL;
	return holder != NULL && spin_while_working(holder, failure->xmax, start);
}

/* table_tuple_lock of the row at tid FOR UPDATE, as ExecLockRows locks it */
static TM_Result
lock_row(Relation table, ItemPointer tid, Snapshot snapshot, TupleTableSlot *slot,
		 int flags, LockWaitPolicy wait_policy, TM_FailureData *failure)
{
	return table_tuple_lock(table, tid, snapshot, slot, GetCurrentCommandId(true),
							LockTupleExclusive, wait_policy, flags, failure);
}

/*
 * Locks the row at tid FOR UPDATE (LockTupleExclusive, with the caller's
 * flags, as ExecLockRows locks it) into slot, as table_tuple_lock with
 * LockWaitBlock does, having first spun while the row's holder works.
 * The spin's time counts from the first try that would have waited, so
 * that a row found free costs no look at the clock.  Returns what
 * table_tuple_lock returns, and failure->traversed is set if any of the
 * tries followed the row to a newer version (tid then points to it), as
 * one waiting call would have.
 */
TM_Result
credits_lock_row_spinning(Relation table, ItemPointer tid, Snapshot snapshot,
						  TupleTableSlot *slot, int flags, TM_FailureData *failure)
{
	ItemPointerData given = *tid;
	ItemPointerData tried = *tid;
	instr_time	start;
	TM_Result	result = TM_WouldBlock;

	if (credits_account_lock_spin > 0)
	{
		result = lock_row(table, tid, snapshot, slot, flags, LockWaitSkip, failure);
		if (result == TM_WouldBlock)
		{
			INSTR_TIME_SET_CURRENT(start);
			while (spin_time_left(start) && spin_until_free(&tried, tid, failure, start))
			{
				tried = *tid;
				result = lock_row(table, tid, snapshot, slot, flags, LockWaitSkip, failure);
				if (result != TM_WouldBlock)
					break;
			}
		}
	}
	if (result == TM_WouldBlock)
		result = lock_row(table, tid, snapshot, slot, flags, LockWaitBlock, failure);
	if (!ItemPointerEquals(&given, tid))
		failure->traversed = true;
	return result;
}
