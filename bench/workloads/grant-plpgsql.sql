-- grant: a package to a random account (plpgsql 10001..20000)
\set aid random(10001, 20000)
SELECT bench_plpgsql.grant_package(:aid, 1);
