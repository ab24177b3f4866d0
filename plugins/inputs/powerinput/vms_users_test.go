package powerinput

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQemuUserForms(t *testing.T) {
	for text, want := range map[string]Users{
		``:                              {"qemu", "libvirt-qemu"},
		`vm_qemu_user = "kvm"`:          {"kvm"},
		`vm_qemu_user = ["qemu", 107]`:  {"qemu", "107"},
		`vm_qemu_user = []`:             {},
		`vm_qemu_user = "$QEMU_USER_X"`: {"$QEMU_USER_X"}, // unset: as written
	} {
		p, err := ParseConfig("[[inputs.powerinput]]\n" + text + "\n")
		require.NoError(t, err, text)
		require.Equal(t, want, p.VMQemuUser, text)
	}
	for _, text := range []string{`vm_qemu_user = 107`, `vm_qemu_user = [1.5]`, `vm_qemu_user = [true]`} {
		_, err := ParseConfig("[[inputs.powerinput]]\n" + text + "\n")
		require.ErrorIs(t, err, ErrConfig, text)
		require.ErrorContains(t, err, "vm_qemu_user", text)
	}
	require.Equal(t, `["qemu", "libvirt-qemu"]`, Users{"qemu", "libvirt-qemu"}.String())
}
