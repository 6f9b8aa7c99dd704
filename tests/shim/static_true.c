/* static_true.c - a statically linked program that exits 0: tcpcrypt-run
 * must refuse it (LD_PRELOAD cannot reach a static binary). */
int main(void)
{
	return 0;
}
