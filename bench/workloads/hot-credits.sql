-- hot: every client on one account (credits 30001)
SELECT credits.redeem_credits(30001, 1);
