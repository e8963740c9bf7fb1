package overseer.template;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.PrintTag;
import com.hubspot.jinjava.tree.TagNode;

/** {@code {% print x %}}, printed the way {@code {{ x }}} is: Jinjava's own tag skips the quoting. */
final class QuotedPrintTag extends PrintTag {
    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
        Object value = interpreter.resolveELExpression(tagNode.getHelpers(), tagNode.getLineNumber());
        return Printer.of(interpreter).print(value, tagNode.getLineNumber(), tagNode.getStartPosition());
    }
}
