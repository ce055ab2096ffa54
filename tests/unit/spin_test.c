/* Unit tests of src/nbdserver/spin.c: when a connection thread polls its
 * socket before sleeping, and how polls that find nothing back off.  A
 * pipe stands in for the socket. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "nbdserver/spin.h"

struct fixture {
	int fds[2];
	struct nbd_spin_limit lim;
	struct nbd_spin st;
};

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ .st = { 0 } };
	if (pipe(f.fds) == -1)
		return -1;
	atomic_init(&f.lim.active, 0);
	f.lim.max = 1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->fds[0]);
	close(f->fds[1]);
	return 0;
}

static void make_input(struct fixture *f)
{
	assert_int_equal(write(f->fds[1], "x", 1), 1);
}

static void input_waiting_is_found(void **state)
{
	struct fixture *f = *state;

	make_input(f);
	f->st.misses = 3;
	assert_true(nbd_spin_for_input(&f->st, &f->lim, f->fds[0]));
	assert_int_equal(f->st.misses, 0);
	assert_int_equal(f->st.skip, 0);
	assert_int_equal(atomic_load(&f->lim.active), 0);
}

static void misses_back_off(void **state)
{
	struct fixture *f = *state;

	assert_false(nbd_spin_for_input(&f->st, &f->lim, f->fds[0]));
	assert_int_equal(f->st.misses, 1);
	assert_int_equal(f->st.skip, 1);
	/* Skipped: input that is there now is left for the sleeping read. */
	make_input(f);
	assert_false(nbd_spin_for_input(&f->st, &f->lim, f->fds[0]));
	assert_int_equal(f->st.skip, 0);
	assert_true(nbd_spin_for_input(&f->st, &f->lim, f->fds[0]));
	assert_int_equal(f->st.misses, 0);
	assert_int_equal(atomic_load(&f->lim.active), 0);
}

static void backoff_doubles_up_to_a_cap(void **state)
{
	struct fixture *f = *state;
	unsigned expect_skip = 0;

	for (unsigned i = 1; i <= NBD_SPIN_BACKOFF_MAX + 2; i++) {
		f->st.skip = 0;
		assert_false(nbd_spin_for_input(&f->st, &f->lim, f->fds[0]));
		if (i <= NBD_SPIN_BACKOFF_MAX)
			expect_skip = (1u << i) - 1;
		assert_int_equal(f->st.skip, expect_skip);
	}
	assert_int_equal(f->st.misses, NBD_SPIN_BACKOFF_MAX);
}

static void no_spare_cpu_no_poll(void **state)
{
	struct fixture *f = *state;

	make_input(f);
	f->lim.max = 0;
	assert_false(nbd_spin_for_input(&f->st, &f->lim, f->fds[0]));
	assert_int_equal(f->st.misses, 0);
	assert_int_equal(atomic_load(&f->lim.active), 0);
}

static void others_polling_fill_the_limit(void **state)
{
	struct fixture *f = *state;

	make_input(f);
	atomic_store(&f->lim.active, 1);
	assert_false(nbd_spin_for_input(&f->st, &f->lim, f->fds[0]));
	assert_int_equal(atomic_load(&f->lim.active), 1);
	assert_int_equal(f->st.misses, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(input_waiting_is_found, setup, teardown),
		cmocka_unit_test_setup_teardown(misses_back_off, setup, teardown),
		cmocka_unit_test_setup_teardown(backoff_doubles_up_to_a_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(no_spare_cpu_no_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(others_polling_fill_the_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
