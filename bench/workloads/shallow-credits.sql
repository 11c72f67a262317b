-- shallow: an account with the same 5 open batches and no history
SELECT credits.redeem_credits(40002, 1);
