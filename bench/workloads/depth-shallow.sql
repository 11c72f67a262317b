-- depth, shallow: credits on an account with the same 5 open batches and no
-- history, run in turn with depth-deep.sql
SELECT credits.redeem_credits(40002, 1);
