-- deep: an account with 10,000 spent or expired batches and 5 open ones
SELECT credits.redeem_credits(40001, 1);
