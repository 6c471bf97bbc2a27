/*
 * qubes-admin-vm-volume - the qrexec service of the calls of family
 * "vm_volume" (lib/api/vm_volume.def) that forward a bounded payload:
 * /etc/qubes-rpc/<call> links here.  All the work is service_main()
 * (lib/service.h).  Import and ImportWithSize stream their payload and
 * have their own executable, qubes-admin-vm-volume-import.
 */
#include "service.h"

int
main(int argc, char **argv)
{
	return service_main(argc, argv, "vm_volume");
}
