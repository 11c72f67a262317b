-- depth, deep: credits on an account with 10,000 spent or expired batches
-- and 5 open ones, run in turn with depth-shallow.sql
SELECT credits.redeem_credits(40001, 1);
