"""Detection: palm detector -> rotated hand crops -> 21 landmarks per hand."""
