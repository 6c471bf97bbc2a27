/*
 * qubes-admin-vm-power - the qrexec service of the calls of family
 * "vm_power" (lib/api/vm_power.def): /etc/qubes-rpc/<call> links here.
 * All the work is service_main() (lib/service.h).
 */
#include "service.h"

int
main(int argc, char **argv)
{
	return service_main(argc, argv, "vm_power");
}
