public enum EnvironmentsPlaceholder {}
