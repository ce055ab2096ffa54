# cinder-brick's configure macros.

# CB_OPTIONAL(NAME, WHAT, CHECKS): --with-NAME / --without-NAME for an
# optional part.  CHECKS set cb_missing to the reason (and the package to
# install) when NAME cannot be built.  Default: built in when found.  Sets
# cb_with_NAME to "yes" or "no (why)" for the summary, CB_HAVE_NAME (yes or
# no) for the tests, and HAVE_NAME (config.h and an automake conditional)
# when built in.
AC_DEFUN([CB_OPTIONAL], [
AC_ARG_WITH([$1], [AS_HELP_STRING([--without-$1], [build without $2])],
  [], [with_$1=check])
cb_missing=
AS_IF([test "x$with_$1" = xno],
  [cb_with_$1="no (--without-$1)"],
  [$3
   AS_IF([test -z "$cb_missing"], [cb_with_$1=yes],
     [test "x$with_$1" = xyes], [AC_MSG_ERROR([--with-$1: $cb_missing])],
     [cb_with_$1="no ($cb_missing)"])])
AS_IF([test "x$cb_with_$1" = xyes],
  [AC_DEFINE(m4_toupper([HAVE_$1]), [1], [Define to 1 to build $2.])
   m4_toupper([CB_HAVE_$1])=yes],
  [m4_toupper([CB_HAVE_$1])=no])
AC_SUBST(m4_toupper([CB_HAVE_$1]))
AM_CONDITIONAL(m4_toupper([HAVE_$1]), [test "x$cb_with_$1" = xyes])
])

# CB_DEFINE_DIR(VAR, DIR, DESCRIPTION): VAR in config.h (and substituted)
# is DIR with every ${prefix}-style variable expanded, as the compiled
# program cannot expand them.
AC_DEFUN([CB_DEFINE_DIR], [
cb_save_prefix=$prefix cb_save_exec_prefix=$exec_prefix
test "x$prefix" = xNONE && prefix=$ac_default_prefix
test "x$exec_prefix" = xNONE && exec_prefix=$prefix
$1="$2"
while :; do
  case $$1 in
  *'$'*) eval "$1=\"$$1\"" ;;
  *) break ;;
  esac
done
prefix=$cb_save_prefix exec_prefix=$cb_save_exec_prefix
AC_DEFINE_UNQUOTED([$1], ["$$1"], [$3])
AC_SUBST([$1])
])
