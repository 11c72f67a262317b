-- hot: every client on one account (plpgsql 30002)
SELECT bench_plpgsql.redeem_credits(30002, 1);
