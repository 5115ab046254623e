"""Microsoft.Compute virtual machine scale sets: capacity changes as long-running ``vmss.update`` operations."""
